import TaxWorker
import WorkerRuntime

await ProcessMain.runWorker(
    name: "koki-tax-worker",
    topics: TaxHandler.topics,
    source: "urn:koki:tax-worker",
    defaultHTTPPort: 9112,
    databaseRole: "koki_tax",
    handler: TaxHandler())
