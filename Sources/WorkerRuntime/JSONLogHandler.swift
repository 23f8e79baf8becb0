import Foundation
import Logging

/// One JSON object per line on stderr: level, time, worker (the process), logger (its part),
/// message, and the metadata (topic, partition, offset, `ce_id`, `trace_id` …). Callers log ids and reasons — never a payload,
/// a name, an address or a 個人番号.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let loggerLabel: String?

    /// `label` is the process (`worker`); `logger` the part of it that wrote the line.
    public init(label: String, logger: String? = nil, level: Logger.Level = .info) {
        self.label = label
        self.loggerLabel = logger
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "level": event.level.rawValue,
            "time": Timestamp.now(),
            "worker": label,
            "message": event.message.description,
        ]
        if let loggerLabel { object["logger"] = loggerLabel }
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = Self.plain(value)
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(data)
    }

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let a): return a.map(plain)
        case .dictionary(let d): return d.mapValues(plain)
        }
    }

    /// Installs the handler for every logger in the process, once, at start-up.
    public static func bootstrap(label: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = environment["KOKI_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { logger in JSONLogHandler(label: label, logger: logger, level: level) }
    }
}
