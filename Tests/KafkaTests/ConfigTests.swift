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

    @Test func anUnknownPropertyIsRefusedByNameWithoutItsValue() {
        let config = KafkaConfig(bootstrapServers: "localhost:9092", properties: ["no.such.property": "secret-value"])
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(config: config) }
        #expect(error?.kind == .configuration)
        #expect(error?.description.contains("no.such.property") == true)
        #expect(error?.description.contains("secret-value") == false)
    }
}
