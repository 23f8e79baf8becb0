import KokiSecrets
import Transfer
import WorkerRuntime

// Every row for a transfer topic goes through the transfer policy (legal basis, active period,
// allowed fields) and is written to the hash-chained transfer log when published. The keyring
// opens sealed 個人番号 for the destinations whose rules include them, and for no other.
let vault: MyNumberVault
do {
    vault = try MyNumberVault.required()
} catch {
    ProcessMain.exitWithConfigurationError("koki-relay", error)
}

await ProcessMain.runRelay(name: "koki-relay", defaultHTTPPort: 9100, databaseRole: "koki_relay",
                           policy: TransferPolicy(vault: vault))
