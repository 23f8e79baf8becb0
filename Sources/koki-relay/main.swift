import Transfer
import WorkerRuntime

// Every row for a transfer topic goes through the transfer policy (legal basis, active period,
// allowed fields) and is written to the hash-chained transfer log when published.
await ProcessMain.runRelay(name: "koki-relay", defaultHTTPPort: 9100, databaseRole: "koki_relay", policy: TransferPolicy())
