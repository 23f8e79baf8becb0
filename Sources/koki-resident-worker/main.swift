import KokiSecrets
import KokiStore
import ResidentWorker
import WorkerRuntime

ProcessMain.answerCommandLine(name: "koki-resident-worker", purpose: "keeps 宛名, 世帯 and 資格 from the resident register, welfare, counter and department events")

// 個人番号 are sealed before they are stored: without a keyring the worker does not start.
let vault: MyNumberVault
// Which business days are accepted (KOKI_CLOCK_WINDOW_DAYS, KOKI_CLOCK_LATEST).
let clock: ClockRule
do {
    vault = try MyNumberVault.required()
    clock = try ClockRule.fromEnvironment()
} catch {
    ProcessMain.exitWithConfigurationError("koki-resident-worker", error)
}

await ProcessMain.runWorker(
    name: "koki-resident-worker",
    topics: ResidentHandler.topics,
    source: "urn:koki:resident-worker",
    defaultHTTPPort: 9111,
    databaseRole: "koki_resident",
    handler: ResidentHandler(vault: vault, clock: clock))
