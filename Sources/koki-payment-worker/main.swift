import PaymentWorker
import WorkerRuntime

await ProcessMain.runWorker(
    name: "koki-payment-worker",
    topics: PaymentHandler.topics,
    source: "urn:koki:payment-worker",
    defaultHTTPPort: 9113,
    databaseRole: "koki_payment",
    handler: PaymentHandler())
