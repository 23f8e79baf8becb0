import Foundation

extension KafkaConfig {
    /// Reads the Kafka settings every koki executable shares:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `KOKI_KAFKA_BROKERS` | bootstrap list `host:port,…` (required) |
    /// | `KOKI_KAFKA_CLIENT_ID` | client id (default: the executable's name) |
    /// | `KOKI_KAFKA_SECURITY_PROTOCOL` | `plaintext`, `ssl`, `sasl_plaintext`, `sasl_ssl` |
    /// | `KOKI_KAFKA_SSL_CA_LOCATION`, `KOKI_KAFKA_SSL_CERTIFICATE_LOCATION`, `KOKI_KAFKA_SSL_KEY_LOCATION`, `KOKI_KAFKA_SSL_KEY_PASSWORD` | TLS |
    /// | `KOKI_KAFKA_SASL_MECHANISM`, `KOKI_KAFKA_SASL_USERNAME`, `KOKI_KAFKA_SASL_PASSWORD` (or `…_PASSWORD_FILE`) | SASL |
    /// | `KOKI_KAFKA_PROPERTIES` | any other librdkafka properties, `name=value` separated by `;` |
    /// Properties koki sets itself and nobody may override through `KOKI_KAFKA_PROPERTIES`:
    /// idempotent, fully acknowledged delivery; offsets kept in the database (never committed
    /// or reset by librdkafka on its own); the group from `KOKI_GROUP_ID`.
    public static let safetyProperties: Set<String> = [
        "enable.idempotence", "acks", "request.required.acks", "auto.offset.reset", "enable.auto.commit",
        "enable.auto.offset.store", "isolation.level", "group.id",
    ]

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       clientID: String) throws -> KafkaConfig {
        guard let brokers = env["KOKI_KAFKA_BROKERS"], !brokers.isEmpty else {
            throw KafkaError(.configuration, "KOKI_KAFKA_BROKERS is not set (a bootstrap list such as localhost:9092)")
        }
        var password = env["KOKI_KAFKA_SASL_PASSWORD"]
        if password == nil, let file = env["KOKI_KAFKA_SASL_PASSWORD_FILE"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw KafkaError(.configuration, "KOKI_KAFKA_SASL_PASSWORD_FILE names a file that cannot be read")
            }
            password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let security = KafkaSecurity(
            securityProtocol: env["KOKI_KAFKA_SECURITY_PROTOCOL"],
            sslCALocation: env["KOKI_KAFKA_SSL_CA_LOCATION"],
            sslCertificateLocation: env["KOKI_KAFKA_SSL_CERTIFICATE_LOCATION"],
            sslKeyLocation: env["KOKI_KAFKA_SSL_KEY_LOCATION"],
            sslKeyPassword: env["KOKI_KAFKA_SSL_KEY_PASSWORD"],
            saslMechanism: env["KOKI_KAFKA_SASL_MECHANISM"],
            saslUsername: env["KOKI_KAFKA_SASL_USERNAME"],
            saslPassword: password)
        var properties: [String: String] = [:]
        for entry in (env["KOKI_KAFKA_PROPERTIES"] ?? "").split(separator: ";") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw KafkaError(.configuration, "KOKI_KAFKA_PROPERTIES has an entry without '=' (expected name=value;…)")
            }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            guard !Self.safetyProperties.contains(name) else {
                throw KafkaError(.configuration, "KOKI_KAFKA_PROPERTIES may not set \(name): koki's delivery and offset guarantees rest on it")
            }
            properties[name] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return KafkaConfig(bootstrapServers: brokers, clientID: env["KOKI_KAFKA_CLIENT_ID"] ?? clientID,
                           security: security, properties: properties)
    }
}
