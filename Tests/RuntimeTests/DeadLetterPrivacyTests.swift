import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiStore
import KokiSynth
import Postgres
import ResidentWorker
import Testing
@testable import WorkerRuntime

/// H4: a dead letter's personal data stays in its table — the `.dlq` topic gets a reference —
/// its body goes when the letter is resolved or too old, and reading it is logged with a purpose.
@Suite("Dead letters without personal data")
struct DeadLetterPrivacyTests {
    let myNumber = "123456789018"

    func poisoned() -> ConsumedMessage {
        let address = ResidentChange.Address(postalCode: "12", cityCode: "112038", prefecture: "埼玉県", line: "川口市本町4-1-1",
                                             katagaki: nil)
        let change = ResidentChange(
            atenaNo: "0000000401", myNumber: myNumber, householdNo: "0000009401",
            change: .init(effectiveDate: LocalDate(iso: "2026-04-01")!, notifiedDate: nil),
            person: .init(nameKanji: "試験 花子", nameKana: "シケン ハナコ", sex: .female, birthDate: LocalDate(iso: "1946-05-05")!,
                          relationshipToHead: .head, residentStatus: .resident, address: address))
        let message = EventFactory(source: "urn:test").resident(.movedWithin, change, id: "bad-postal")
        return ConsumedMessage(topic: message.topic, partition: 0, offset: 0, key: message.key, value: message.value,
                               headers: message.headers, timestampMillis: 1_795_000_000_000)
    }

    @Test func theDeadLetterTopicGetsAReferenceNotTheBody() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: "koki-resident-worker", source: "urn:koki:resident-worker",
                                       handler: ResidentHandler(myNumbers: TestKeys.intake, clock: .replay), seal: TestDeadLetterKeys.seal)
        let letter = poisoned()
        let summary = try await conn.run {
            try processor.process([letter], tp: TopicPartition("resident.changes.v1", 0), expected: nil, on: $0)
        }
        #expect(summary.deadLettered == [.validation: 1])
        try await conn.run { conn throws in
            let row = try conn.query("""
                SELECT message_key, headers::text, payload FROM outbox WHERE topic = 'resident.changes.v1.dlq'
                """)[0]
            let (key, headers, payload) = try row.decode(String?.self, String.self, Data?.self)
            let body = String(decoding: payload ?? Data(), as: UTF8.self)
            #expect(key == nil)
            for secret in [myNumber, "試験", "シケン", "川口市", "0000000401"] {
                #expect(!body.contains(secret) && !headers.contains(secret), "\(secret) reached the .dlq topic")
            }
            let reference = try #require(try JSONSerialization.jsonObject(with: payload ?? Data()) as? [String: Any])
            #expect(reference["topic"] as? String == "resident.changes.v1" && reference["offset"] as? Int == 0)
            #expect(reference["ceId"] as? String == "bad-postal" && reference["errorKind"] as? String == "validation")
            #expect(reference["reason"] as? String == "person.address.postalCode is not 7 digits")
            // The body stays in its table, for a replay after the cause is fixed.
            #expect(try conn.count("SELECT count(*) FROM dead_letters WHERE payload IS NOT NULL") == 1)
        }
    }

    @Test func readingABodyIsLoggedAndResolvingALetterDropsIt() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: "koki-resident-worker", source: "urn:koki:resident-worker",
                                       handler: ResidentHandler(myNumbers: TestKeys.intake, clock: .replay), seal: TestDeadLetterKeys.seal)
        let letter = poisoned()
        _ = try await conn.run { try processor.process([letter], tp: TopicPartition("resident.changes.v1", 0), expected: nil, on: $0) }
        let id = try await conn.run { try $0.query("SELECT id FROM dead_letters")[0].decode(Int64.self, at: 0) }
        await #expect(throws: DeadLetterOperations.Refused.self) {
            try await conn.run { try DeadLetterOperations.showPayload(id, by: "ops", purpose: " ", opener: TestDeadLetterKeys.opener, on: $0) }
        }
        // Sealed at rest: the clear 個人番号 is nowhere in the table; without the operators' key it does not open.
        #expect(try await conn.run { try $0.count("""
            SELECT count(*) FROM dead_letters WHERE payload_sealed AND position(convert_to('123456789018', 'UTF8') IN payload) = 0
            """) } == 1)
        await #expect(throws: DeadLetterOperations.Refused.self) {
            try await conn.run { try DeadLetterOperations.showPayload(id, by: "ops", purpose: "INC-1", opener: nil, on: $0) }
        }
        let detail = try await conn.run {
            try DeadLetterOperations.showPayload(id, by: "ops", purpose: "INC-2026-0042", opener: TestDeadLetterKeys.opener, on: $0)
        }
        #expect(String(decoding: detail.payload ?? [], as: UTF8.self).contains(myNumber))
        try await conn.run { conn throws in
            let logged = try conn.query("SELECT operator, command, subject, purpose, session_login FROM access_log")
            #expect(logged.count == 1, "the read that could not open the body read nothing")
            #expect(try logged[0].decode(String.self, at: 2) == "dead_letter:\(id)")
            #expect(try logged[0].decode(String.self, at: 3) == "INC-2026-0042")
            #expect(try logged[0].decode(String.self, at: 4) == "postgres", "the database login, not a typed name")
            #expect(throws: PostgresError.self) { try conn.execute("UPDATE access_log SET purpose = 'x'") }
            #expect(throws: PostgresError.self) { try conn.execute("DELETE FROM access_log") }
        }
        try await conn.run { try DeadLetterOperations.discard(id, by: "ops", reason: "upstream resent it corrected", on: $0) }
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM dead_letters WHERE payload IS NULL AND status = 'discarded'") } == 1)
    }

    /// Without the operators' public key a worker keeps no body at all — never one in clear.
    @Test func withoutTheKeyNoBodyIsKept() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: "koki-resident-worker", source: "urn:koki:resident-worker",
                                       handler: ResidentHandler(myNumbers: TestKeys.intake, clock: .replay))
        _ = try await conn.run { try processor.process([poisoned()], tp: TopicPartition("resident.changes.v1", 0), expected: nil, on: $0) }
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM dead_letters WHERE payload IS NULL") } == 1)
    }

    @Test func oldBodiesArePurgedWhetherResolvedOrNot() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: "koki-resident-worker", source: "urn:koki:resident-worker",
                                       handler: ResidentHandler(myNumbers: TestKeys.intake, clock: .replay), seal: TestDeadLetterKeys.seal)
        _ = try await conn.run { try processor.process([poisoned()], tp: TopicPartition("resident.changes.v1", 0), expected: nil, on: $0) }
        try await conn.run { conn throws in
            try conn.execute("UPDATE dead_letters SET dead_lettered_at = now() - interval '91 days'")
            // As the worker's own role, which may not read dead_letters.
            try conn.execute("SET ROLE koki_resident")
            defer { try? conn.execute("RESET ROLE") }
            #expect(throws: PostgresError.self) { try conn.query("SELECT count(*) FROM dead_letters") }
            #expect(try RuntimeStore.purgeDeadLetterBodies(group: "koki-resident-worker", olderThanDays: 92, on: conn) == 0)
            #expect(try RuntimeStore.purgeDeadLetterBodies(group: "other", olderThanDays: 90, on: conn) == 0)
            #expect(try RuntimeStore.purgeDeadLetterBodies(group: "koki-resident-worker", olderThanDays: 90, on: conn) == 1)
            try conn.execute("RESET ROLE")
            #expect(try conn.count("SELECT count(*) FROM dead_letters WHERE payload IS NULL") == 1, "the reference stays")
        }
    }
}
