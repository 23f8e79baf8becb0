import Foundation
import KokiStore
import TaxWorker
import WorkerRuntime

// Each business day waits for the worker whose day comes first (KOKI_CALENDAR_AFTER overrides).
let after: CalendarStore.Worker?
do {
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
    handler: TaxHandler(after: after))
