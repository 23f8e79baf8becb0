import WorkerRuntime

await ProcessMain.runRelay(name: "koki-relay", defaultHTTPPort: 9100, policy: PassThroughPolicy())
