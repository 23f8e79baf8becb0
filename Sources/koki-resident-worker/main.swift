import KokiSecrets
import KokiStore
import ResidentWorker
import WorkerRuntime

ProcessMain.answerCommandLine(name: "koki-resident-worker", purpose: "keeps 宛名, 世帯 and 資格 from the resident register, welfare, counter and department events")

// 個人番号 are sealed before they are stored: without the sealing (public) key and the lookup key
// the worker does not start. It holds no key that opens them.
let myNumbers: MyNumberIntake
// Which business days are accepted (KOKI_CLOCK_WINDOW_DAYS, KOKI_CLOCK_LATEST).
let clock: ClockRule
do {
    myNumbers = try MyNumberIntake.required()
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
    handler: ResidentHandler(myNumbers: myNumbers, clock: clock))
