import Foundation
import SampleWorker
import WorkerRuntime

ProcessMain.answerCommandLine(name: "koki-sample-worker", purpose: "the runtime's sample worker (tests and benchmarks)")

let env = ProcessInfo.processInfo.environment
await ProcessMain.runWorker(
    name: "koki-sample-worker",
    topics: [env["KOKI_SAMPLE_INPUT_TOPIC"] ?? SampleHandler.inputTopic],
    source: "urn:koki:sample-worker",
    defaultHTTPPort: 9109,
    handler: SampleHandler(outputTopic: env["KOKI_SAMPLE_OUTPUT_TOPIC"] ?? SampleHandler.outputTopic))
