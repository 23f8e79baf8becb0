import Foundation
import KokiStore
import PaymentWorker
import WorkerRuntime

ProcessMain.answerCommandLine(name: "koki-payment-worker", purpose: "keeps 収納: payments, charges, 督促, 催告, 延滞金, refunds")

// Each business day waits for the worker whose day comes first (KOKI_CALENDAR_AFTER overrides).
let after: CalendarStore.Worker?
// Which business days are accepted (KOKI_CLOCK_WINDOW_DAYS, KOKI_CLOCK_LATEST).
let clock: ClockRule
do {
    clock = try ClockRule.fromEnvironment()
    after = try CalendarStore.upstream(default: .tax, environment: ProcessInfo.processInfo.environment)
} catch {
    ProcessMain.exitWithConfigurationError("koki-payment-worker", error)
}

await ProcessMain.runWorker(
    name: "koki-payment-worker",
    topics: PaymentHandler.topics,
    source: "urn:koki:payment-worker",
    defaultHTTPPort: 9113,
    databaseRole: "koki_payment",
    handler: PaymentHandler(after: after, clock: clock))
