import Foundation
import KokiBase
import KokiSecrets
import Logging
import ServiceLifecycle

/// The shared `main` of koki's long-running executables: JSON logs, configuration from
/// the environment (a bad variable exits 2 with its name), the health listener, and a
/// service group that turns SIGTERM/SIGINT into a graceful stop within the budget.
public enum ProcessMain {
    public static func runWorker(name: String, topics: [String], source: String, defaultHTTPPort: Int,
                                 databaseRole: String? = nil, handler: any EventHandler) async -> Never {
        JSONLogHandler.bootstrap(label: name)
        let logger = Logger(label: name)
        let config: WorkerConfig
        do {
            config = try WorkerConfig.fromEnvironment(name: name, defaultHTTPPort: defaultHTTPPort, defaultRole: databaseRole)
        } catch {
            exitWithConfigurationError(name, error)
        }
        let metrics = RuntimeMetrics()
        let status = WorkerStatus()
        let loop = WorkerLoop(config: config, topics: topics, source: source, handler: handler,
                              metrics: metrics, status: status, logger: logger)
        let service = BlockingService(name: name, body: { try loop.run() }, stop: { loop.requestStop() })
        await run(name: name, service: service, port: config.httpPort, budget: config.shutdownBudget,
                  status: status, metrics: metrics, logger: logger)
    }

    public static func runRelay(name: String, defaultHTTPPort: Int, databaseRole: String? = nil,
                                policy: any PublishPolicy) async -> Never {
        JSONLogHandler.bootstrap(label: name)
        let logger = Logger(label: name)
        let config: WorkerConfig
        var options = OutboxRelay.Options(instance: ProcessInfo.processInfo.hostName + ":\(getpid())")
        do {
            config = try WorkerConfig.fromEnvironment(name: name, defaultHTTPPort: defaultHTTPPort, defaultRole: databaseRole)
            let env = ProcessInfo.processInfo.environment
            options.batchSize = try WorkerConfig.integer(env, "KOKI_RELAY_BATCH", options.batchSize, 1...100_000)
            options.batchesInFlight = try WorkerConfig.integer(env, "KOKI_RELAY_IN_FLIGHT", options.batchesInFlight, 1...64)
            let hours = Int(options.retention.components.seconds / 3600)
            options.retention = .seconds(try WorkerConfig.integer(env, "KOKI_OUTBOX_RETENTION_HOURS", hours, 0...87_600) * 3600)
            let heldDays = Int(options.heldRetention.components.seconds / 86_400)
            options.heldRetention = .seconds(try WorkerConfig.integer(env, "KOKI_HELD_RETENTION_DAYS", heldDays, 0...3650) * 86_400)
            options.retryMax = config.retryMax
            options.auditMac = try AuditMacKey.fromEnvironment(env)
        } catch {
            exitWithConfigurationError(name, error)
        }
        let metrics = RuntimeMetrics()
        let status = WorkerStatus()
        let relay = OutboxRelay(kafka: config.kafka, databaseURL: config.databaseURL, options: options, policy: policy,
                                metrics: metrics, status: status, logger: logger)
        let service = BlockingService(name: name, body: { try relay.run() }, stop: { relay.requestStop() })
        await run(name: name, service: service, port: config.httpPort, budget: config.shutdownBudget,
                  status: status, metrics: metrics, logger: logger)
    }

    static func run(name: String, service: BlockingService, port: Int, budget: Duration, status: WorkerStatus,
                    metrics: RuntimeMetrics, logger: Logger) async -> Never {
        // A health or metrics client that hangs up mid-response must not kill the process:
        // a write to its closed socket fails with EPIPE instead of raising SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let health: HealthServer
        do {
            health = try HealthServer(port: port, status: status, metrics: { metrics.text() })
        } catch {
            exitWithConfigurationError(name, error)
        }
        logger.info("health listener up", metadata: ["port": "\(health.port)"])
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: HealthService(server: health)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = budget
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
            logger.info("exiting")
            exit(0)
        } catch {
            logger.error("exiting after a failure", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    /// `--version` and `--help` (what an operator, or an image check, asks an executable first);
    /// any other argument is refused: a long-running koki process is configured by its
    /// environment alone (README, "Configuration"). Call it first in `main`.
    public static func answerCommandLine(name: String, purpose: String,
                                         arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        guard let first = arguments.first else { return }
        switch first {
        case "--version":
            print("\(name) \(KokiVersion.string)")
            exit(0)
        case "--help", "-h":
            print("""
                \(name) \(KokiVersion.string): \(purpose)

                Usage: \(name)   (no arguments: configured by the environment)
                  KOKI_DATABASE_URL, KOKI_KAFKA_BROKERS and the other KOKI_* variables — see
                  docs/configuration.md. Serves /livez, /readyz and /metrics on KOKI_HTTP_PORT; SIGTERM stops it cleanly.
                """)
            exit(0)
        default:
            FileHandle.standardError.write(Data("\(name): takes no arguments (try --help); it is configured by its environment\n".utf8))
            exit(2)
        }
    }

    public static func exitWithConfigurationError(_ name: String, _ error: Error) -> Never {
        FileHandle.standardError.write(Data("\(name): configuration error: \(error)\n".utf8))
        exit(2)
    }
}
