internal import CLibrdkafka

/// Connection settings shared by producers, consumers and admin clients. librdkafka's
/// string dictionary stays inside this module; operators can still set any librdkafka
/// property by name through `properties`.
public struct KafkaConfig: Sendable, CustomStringConvertible {
    /// Comma-separated `host:port` list.
    public var bootstrapServers: String
    public var clientID: String
    public var security: KafkaSecurity
    /// Any other librdkafka property (`linger.ms`, `session.timeout.ms`, …); applied last,
    /// so it overrides koki's defaults.
    public var properties: [String: String]

    public init(bootstrapServers: String, clientID: String = "koki",
                security: KafkaSecurity = KafkaSecurity(), properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.security = security
        self.properties = properties
    }

    /// All properties in the order they are applied: koki's defaults for the client kind,
    /// then the connection, then security, then the operator's overrides.
    func resolved(defaults: [(String, String)]) -> [(String, String)] {
        var all = defaults
        all.append(("bootstrap.servers", bootstrapServers))
        all.append(("client.id", clientID))
        all.append(contentsOf: security.properties)
        all.append(contentsOf: properties.sorted { $0.key < $1.key })
        return all
    }

    /// Secrets (`*password*`, `*secret*`, key material) are redacted.
    public var description: String {
        let shown = resolved(defaults: []).map { key, value in
            KafkaSecurity.isSecret(key) ? "\(key)=<redacted>" : "\(key)=\(value)"
        }
        return "KafkaConfig(\(shown.joined(separator: ", ")))"
    }
}

/// TLS and SASL settings, passed through to librdkafka's properties of the same meaning.
public struct KafkaSecurity: Sendable {
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`.
    public var securityProtocol: String?
    public var sslCALocation: String?
    public var sslCertificateLocation: String?
    public var sslKeyLocation: String?
    public var sslKeyPassword: String?
    /// `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`.
    public var saslMechanism: String?
    public var saslUsername: String?
    public var saslPassword: String?

    public init(securityProtocol: String? = nil, sslCALocation: String? = nil,
                sslCertificateLocation: String? = nil, sslKeyLocation: String? = nil,
                sslKeyPassword: String? = nil, saslMechanism: String? = nil,
                saslUsername: String? = nil, saslPassword: String? = nil) {
        self.securityProtocol = securityProtocol
        self.sslCALocation = sslCALocation
        self.sslCertificateLocation = sslCertificateLocation
        self.sslKeyLocation = sslKeyLocation
        self.sslKeyPassword = sslKeyPassword
        self.saslMechanism = saslMechanism
        self.saslUsername = saslUsername
        self.saslPassword = saslPassword
    }

    var properties: [(String, String)] {
        let pairs: [(String, String?)] = [
            ("security.protocol", securityProtocol),
            ("ssl.ca.location", sslCALocation),
            ("ssl.certificate.location", sslCertificateLocation),
            ("ssl.key.location", sslKeyLocation),
            ("ssl.key.password", sslKeyPassword),
            ("sasl.mechanisms", saslMechanism),
            ("sasl.username", saslUsername),
            ("sasl.password", saslPassword),
        ]
        return pairs.compactMap { key, value in value.map { (key, $0) } }
    }

    static func isSecret(_ key: String) -> Bool {
        key.contains("password") || key.contains("secret") || key.hasSuffix(".key.pem")
            || key.contains("oauthbearer.config")
    }
}

/// Owns an `rd_kafka_conf_t` until `rd_kafka_new` takes it.
enum NativeConf {
    /// Builds a conf; the caller owns the result (rd_kafka_new frees it on success only).
    static func make(_ properties: [(String, String)]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(.configuration, code: .noError, "rd_kafka_conf_new failed")
        }
        for (key, value) in properties {
            var errstr = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                // The property name is safe to show; its value may be a secret.
                throw KafkaError(.configuration, code: .noError, "invalid property \(key)")
            }
        }
        return conf
    }

    /// `rd_kafka_new`: on success the handle owns the conf; on failure we free it here.
    static func newHandle(_ type: rd_kafka_type_t, conf: OpaquePointer) throws -> OpaquePointer {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.clientCreation, code: .noError,
                             String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return handle
    }
}
