import Kafka
import Testing

@Suite("Kafka configuration")
struct ConfigTests {
    @Test func environmentNamesTheMissingVariable() {
        let error = #expect(throws: KafkaError.self) { try KafkaConfig.fromEnvironment([:], clientID: "x") }
        #expect(error?.description.contains("KOKI_KAFKA_BROKERS") == true)
    }

    @Test func securityAndExtraPropertiesPassThroughAndSecretsAreRedacted() throws {
        let config = try KafkaConfig.fromEnvironment([
            "KOKI_KAFKA_BROKERS": "b1:9093,b2:9093",
            "KOKI_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "KOKI_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KOKI_KAFKA_SASL_USERNAME": "koki-relay",
            "KOKI_KAFKA_SASL_PASSWORD": "s3cret-pw",
            "KOKI_KAFKA_SSL_CA_LOCATION": "/etc/ssl/certs/ca-certificates.crt",
            "KOKI_KAFKA_PROPERTIES": "linger.ms=20; compression.type=lz4",
        ], clientID: "koki-relay")
        #expect(config.bootstrapServers == "b1:9093,b2:9093")
        #expect(config.security.saslMechanism == "SCRAM-SHA-512")
        #expect(config.properties == ["linger.ms": "20", "compression.type": "lz4"])
        #expect(!config.description.contains("s3cret-pw"))
        #expect(config.description.contains("sasl.password=<redacted>"))
        #expect(config.description.contains("security.protocol=sasl_ssl"))
        // librdkafka accepts the whole set (it is built with SSL and SASL/SCRAM here).
        _ = try KafkaProducer(config: config)
    }

    /// L5: the properties koki's guarantees rest on cannot be overridden from the environment.
    @Test func safetyPropertiesCannotBeOverridden() throws {
        for entry in ["enable.idempotence=false", "acks=1", "auto.offset.reset=earliest", " enable.auto.commit = true"] {
            let error = #expect(throws: KafkaError.self) {
                try KafkaConfig.fromEnvironment(["KOKI_KAFKA_BROKERS": "k:9092", "KOKI_KAFKA_PROPERTIES": "linger.ms=1;" + entry],
                                                clientID: "x")
            }
            let name = entry.split(separator: "=")[0].trimmingCharacters(in: .whitespaces)
            #expect(error?.description.contains("may not set \(name)") == true)
        }
        _ = try KafkaConfig.fromEnvironment(["KOKI_KAFKA_BROKERS": "k:9092", "KOKI_KAFKA_PROPERTIES": "session.timeout.ms=4000"],
                                            clientID: "x")
    }

    @Test func anUnknownPropertyIsRefusedByNameWithoutItsValue() {
        let config = KafkaConfig(bootstrapServers: "localhost:9092", properties: ["no.such.property": "secret-value"])
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(config: config) }
        #expect(error?.kind == .configuration)
        #expect(error?.description.contains("no.such.property") == true)
        #expect(error?.description.contains("secret-value") == false)
    }
}
