import ResidentWorker
import WorkerRuntime

await ProcessMain.runWorker(
    name: "koki-resident-worker",
    topics: ResidentHandler.topics,
    source: "urn:koki:resident-worker",
    defaultHTTPPort: 9111,
    databaseRole: "koki_resident",
    handler: ResidentHandler())
