import Foundation
import KokiBase
import Prometheus
import Synchronization

/// The runtime's metrics, in Prometheus text at `/metrics`.
public final class RuntimeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    let batchSize: ValueHistogram
    let batchDuration: DurationHistogram
    let publishLatency: DurationHistogram

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        batchSize = registry.makeValueHistogram(name: "koki_batch_size", buckets: [1, 10, 50, 100, 250, 500, 1000, 5000],
                                                help: "Events per applied partition batch")
        batchDuration = registry.makeDurationHistogram(
            name: "koki_batch_duration_seconds",
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)],
            help: "Time to apply one partition batch in its transaction")
        publishLatency = registry.makeDurationHistogram(
            name: "koki_publish_latency_seconds",
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30)],
            help: "From outbox insert to the broker's delivery report")
        gauge("koki_build_info", "The running release (value 1)", [("version", KokiVersion.string)]).set(Double(1))
    }

    /// Partitions this member holds, and those stopped (a poison batch, a wait past its limit):
    /// a stopped partition applies nothing until an operator acts.
    func partitions(assigned: Int, stopped: Int) {
        gauge("koki_partitions_assigned", "Partitions assigned to this member", []).set(Double(assigned))
        gauge("koki_partitions_stopped", "Partitions stopped until an operator acts", []).set(Double(stopped))
    }

    static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
    static let clockTicks = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The process's resident memory and CPU time, read from /proc at each scrape.
    func sampleProcess() {
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
           let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) {
            gauge("koki_process_resident_memory_bytes", "Resident memory of this process", []).set(pages * Self.pageSize)
        }
        // utime and stime are the 14th and 15th fields, counted after the command name's ')'.
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) {
                gauge("koki_process_cpu_seconds", "CPU time this process has used (user + system)", []).set((user + system) / Self.clockTicks)
            }
        }
    }

    /// A labelled counter, created once and cached.
    func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        Self.cached(counters, name, labels) { registry.makeCounter(name: name, labels: labels, help: help) }
    }

    func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        Self.cached(gauges, name, labels) { registry.makeGauge(name: name, labels: labels, help: help) }
    }

    private static func cached<Metric>(_ cache: borrowing Mutex<[String: Metric]>, _ name: String,
                                       _ labels: [(String, String)], make: () -> Metric) -> Metric {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        return cache.withLock { cache in
            if let metric = cache[key] { return metric }
            let metric = make()
            cache[key] = metric
            return metric
        }
    }

    func consumed(_ topic: String, _ n: Int) {
        counter("koki_events_consumed_total", "Events read from Kafka", [("topic", topic)]).increment(by: Int64(n))
    }

    func applied(_ topic: String, _ n: Int) {
        counter("koki_events_applied_total", "Events applied to the store", [("topic", topic)]).increment(by: Int64(n))
    }

    func duplicates(_ topic: String, _ n: Int) {
        counter("koki_events_duplicate_total", "Events skipped as already applied", [("topic", topic)]).increment(by: Int64(n))
    }

    func deadLettered(_ topic: String, kind: String, _ n: Int) {
        counter("koki_events_dead_lettered_total", "Events dead-lettered, by error kind",
                [("topic", topic), ("kind", kind)]).increment(by: Int64(n))
    }

    func retried(_ topic: String) {
        counter("koki_batch_retries_total", "Batches retried after a transient failure", [("topic", topic)]).increment()
    }

    func lag(group: String, _ topic: String, _ partition: Int32, _ value: Int64) {
        gauge("koki_consumer_lag", "High watermark minus the database offset",
              [("group", group), ("topic", topic), ("partition", String(partition))]).set(Double(value))
    }

    /// A delivery Kafka did not confirm (the row stays unpublished and goes out again), by
    /// librdkafka's code name.
    func deliveryFailed(_ code: String) {
        counter("koki_relay_delivery_failures_total", "Deliveries that failed and are retried, by librdkafka's code",
                [("code", code)]).increment()
    }

    func published(_ topic: String, _ n: Int) {
        counter("koki_outbox_published_total", "Outbox rows published", [("topic", topic)]).increment(by: Int64(n))
    }

    /// A transfer the policy refused: an alert (no personal data in the label, only koki's reason).
    func held(_ reason: String) {
        counter("koki_outbox_held_total", "Outbox rows held by the transfer policy", [("reason", reason)]).increment()
    }

    /// The relay's producer stopped with a fatal error and was replaced.
    func producerReplaced() {
        counter("koki_producer_replaced_total", "Producers replaced after a fatal error", []).increment()
    }

    func outboxBacklog(_ value: Int) {
        gauge("koki_outbox_backlog", "Outbox rows not yet published", []).set(Double(value))
    }

    /// A gauge the store defines (a name of lower-case letters and underscores; one label or none).
    func storeGauge(_ name: String, label: String, value: String, _ count: Int) {
        let plain = { (text: String) in !text.isEmpty && text.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || $0 == 95 } }
        guard plain(name), label.isEmpty || plain(label) else { return }
        gauge(name, "From the store (store_gauges)", label.isEmpty ? [] : [(label, value)]).set(Double(count))
    }

    public func text() -> String {
        sampleProcess()
        return registry.emitToString()
    }
}
