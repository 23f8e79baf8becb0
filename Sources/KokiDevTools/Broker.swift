import ArgumentParser
import Foundation
import Kafka
import KokiCommands
import KokiEvents

/// `koki-dev broker` — hosts librdkafka's mock Kafka cluster for tests and the local stack.
struct Broker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Host a local mock Kafka cluster (librdkafka's, real protocol on 127.0.0.1) with every koki topic.")

    @Option(help: "Number of brokers.")
    var brokers: Int = 3

    @Option(help: "Write the bootstrap address to this file once the topics exist.")
    var bootstrapFile: String?

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 16") }
    }

    mutating func run() async throws {
        let cluster: MockKafkaCluster
        do {
            cluster = try MockKafkaCluster(brokers: brokers)
            try cluster.createTopics(Topics.all.map {
                NewTopic(name: $0.name, partitions: $0.partitions, replicationFactor: min(3, brokers))
            })
        } catch {
            throw fail("cannot start the mock cluster: \(error)")
        }
        print("koki broker: \(brokers) brokers, \(Topics.all.count) topics")
        print("bootstrap: \(cluster.bootstrapServers)")
        if let bootstrapFile {
            do {
                try writeAtomically(cluster.bootstrapServers + "\n", to: bootstrapFile)
            } catch {
                throw fail("cannot write --bootstrap-file \(bootstrapFile)")
            }
        }
        fflush(nil)
        let signal = await TerminationSignal.wait()
        print("koki broker: stopping on signal \(signal)")
        withExtendedLifetime(cluster) {}
    }
}
