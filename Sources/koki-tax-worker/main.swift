import Foundation
import KokiStore
import TaxWorker
import WorkerRuntime

ProcessMain.answerCommandLine(name: "koki-tax-worker", purpose: "keeps 所得, 賦課, 期割 and 負担割合; runs the July 本算定")

// Each business day waits for the worker whose day comes first (KOKI_CALENDAR_AFTER overrides).
let after: CalendarStore.Worker?
// Which business days are accepted (KOKI_CLOCK_WINDOW_DAYS, KOKI_CLOCK_LATEST).
let clock: ClockRule
do {
    clock = try ClockRule.fromEnvironment()
    after = try CalendarStore.upstream(default: .resident, environment: ProcessInfo.processInfo.environment)
} catch {
    ProcessMain.exitWithConfigurationError("koki-tax-worker", error)
}

await ProcessMain.runWorker(
    name: "koki-tax-worker",
    topics: TaxHandler.topics,
    source: "urn:koki:tax-worker",
    defaultHTTPPort: 9112,
    databaseRole: "koki_tax",
    handler: TaxHandler(after: after, clock: clock))
