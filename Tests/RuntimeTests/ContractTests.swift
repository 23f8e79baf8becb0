import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiStore
import KokiSynth
import PaymentWorker
import Postgres
import ResidentWorker
import TaxWorker
import Testing
@testable import WorkerRuntime

/// The published contracts (contracts/asyncapi.yaml, contracts/schemas) hold the code: EVENTS.md's
/// examples conform and are applied by the workers; every synthetic upstream event conforms; every
/// transfer the end-to-end tests receive conforms (checked in `ResidentStack.publishedTransfers`).
@Suite("Published contracts")
struct ContractTests {
    /// EVENTS.md's examples, as upstream teams publish them.
    static let examples: [(topic: String, type: String, key: String, body: String)] = [
        ("resident.changes.v1", "resident.moved-in", "0000123456", """
            {"atenaNo": "0000123456", "myNumber": "123456789018", "householdNo": "0000045678",
             "change": { "effectiveDate": "2026-04-01", "notifiedDate": "2026-04-03" },
             "person": { "nameKanji": "川口 花子", "nameKana": "カワグチ ハナコ", "sex": "female", "birthDate": "1950-05-10",
               "relationshipToHead": "head", "residentStatus": "resident",
               "address": { "postalCode": "3320012", "cityCode": "112038", "prefecture": "埼玉県", "line": "川口市本町4-1-1", "katagaki": null },
               "previousAddress": { "postalCode": "1500001", "cityCode": "131130", "prefecture": "東京都", "line": "渋谷区神宮前1-1-1", "katagaki": null },
               "nextAddress": null, "deathDate": null } }
            """),
        ("welfare.public-assistance.v1", "welfare.assistance-started", "0000123456",
         #"{ "atenaNo": "0000123456", "householdNo": "0000045678", "caseNo": "W-2026-00017", "effectiveDate": "2026-06-01" }"#),
        ("tax.income.v1", "tax.income-assessed", "0000123456", """
            { "atenaNo": "0000123456", "incomeYear": 2025, "declared": true, "totalIncome": 870000, "totalIncomeForAssessment": 870000,
              "publicPensionIncome": 1970000, "salaryIncome": 0, "otherIncome": 0, "taxableIncome": 0, "residentTaxExempt": true }
            """),
        ("pension.deduction-targets.v1", "pension.deduction-target", "0000123456", """
            { "atenaNo": "0000123456", "fiscalYear": 2026, "pensionAnnualAmount": 1970000, "pensionPerPayment": 328333,
              "longTermCarePremiumDeducted": true, "longTermCarePremiumPerPayment": 12000 }
            """),
        ("collection.payments.v1", "payment.received", "0000123456", """
            { "paymentId": "P-20260731-000123", "atenaNo": "0000123456", "fiscalYear": 2026, "installmentNo": 1, "amount": 7500,
              "paidOn": "2026-07-30", "creditedOn": "2026-08-03", "channel": "convenience-store" }
            """),
        ("department.enrollments.v1", "department.enrolled", "0000123456", """
            { "department": "disability-welfare", "atenaNo": "0000123456", "program": "重度心身障害者医療費助成", "effectiveDate": "2026-04-01" }
            """),
        ("clock.business-day.v1", "clock.business-day", "clock", #"{ "date": "2026-07-31" }"#),
    ]

    static func message(_ e: (topic: String, type: String, key: String, body: String), id: String) -> OutgoingMessage {
        OutgoingMessage(topic: e.topic, key: Array(e.key.utf8), value: Array(e.body.utf8), headers: [
            KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", id), KafkaHeader("ce_type", e.type),
            KafkaHeader("ce_source", "urn:kawaguchi:test"), KafkaHeader("ce_time", "2026-07-31T09:00:00+09:00"),
            KafkaHeader("content-type", "application/json"),
        ])
    }

    @Test func theExamplesOfEventsMdConformAndAreApplied() async throws {
        for example in Self.examples {
            let validator = try #require(try SchemaValidator.forType(example.type), "a schema for \(example.type)")
            let body = try JSONSerialization.jsonObject(with: Data(example.body.utf8))
            #expect(validator.validate(body).isEmpty, "\(example.type): \(validator.validate(body))")
        }
        // Applied, not dead-lettered, by the worker that reads each topic — also with a field the
        // contract does not name.
        let examples = Self.examples + [("collection.payments.v1", "payment.received", "0000123456", """
            { "paymentId": "P-20260731-000124", "atenaNo": "0000123456", "fiscalYear": 2026, "installmentNo": 1, "amount": 7500,
              "paidOn": "2026-07-30", "channel": "bank", "branchCode": "0123" }
            """)]
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        let handlers: [(any EventHandler, [String])] = [
            (ResidentHandler(myNumbers: TestKeys.intake, clock: .replay), ResidentHandler.topics), (TaxHandler(clock: .replay), TaxHandler.topics),
            (PaymentHandler(clock: .replay), PaymentHandler.topics),
        ]
        try await conn.run { conn in
            for (offset, example) in examples.enumerated() {
                for (handler, topics) in handlers where topics.contains(example.topic) {
                    let event = try InboundEvent(consumed(Self.message(example, id: "example-\(offset)"), offset: Int64(offset)))
                    let outcomes = try conn.transaction { try handler.apply([event], in: $0) }
                    let applied = outcomes.allSatisfy { if case .applied = $0 { true } else { false } }
                    #expect(applied, "\(example.type) applied by \(type(of: handler)): \(outcomes)")
                }
            }
        }
    }

    @Test func everySyntheticUpstreamEventConforms() throws {
        var options = SyntheticCity.Options()
        options.residents = 3_000
        var validators: [String: SchemaValidator] = [:]
        var failures: [String] = []
        for event in SyntheticCity(options).events {
            let type = event.message.headers.first { $0.key == "ce_type" }?.value.map { String(decoding: $0, as: UTF8.self) } ?? "?"
            if validators[type] == nil { validators[type] = try SchemaValidator.forType(type) }
            guard let validator = validators[type] else { failures.append("no schema for \(type)"); continue }
            let errors = validator.validate(try JSONSerialization.jsonObject(with: Data(event.message.value ?? [])))
            if !errors.isEmpty { failures.append("\(type): \(errors)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    @Test func theCheckerRejectsWhatBreaksTheContract() throws {
        let validator = try #require(try SchemaValidator.forType("payment.received"))
        let good: [String: Any] = ["paymentId": "P-1", "atenaNo": "0000123456", "amount": 7500, "paidOn": "2026-07-30",
                                   "channel": "bank"]
        #expect(validator.validate(good).isEmpty)
        let parsed = try JSONSerialization.jsonObject(with: Data(#"{"paymentId":"P-1","atenaNo":"0000123456","amount":1,"paidOn":"2026-07-30","channel":"bank"}"#.utf8))
        #expect(validator.validate(parsed).isEmpty, "1 is an integer, not a boolean")
        let boolean = try JSONSerialization.jsonObject(with: Data(#"{"paymentId":"P-1","atenaNo":"0000123456","amount":true,"paidOn":"2026-07-30","channel":"bank"}"#.utf8))
        #expect(!validator.validate(boolean).isEmpty, "true is not an amount")
        let flags = try #require(try SchemaValidator.forType("pension.deduction-target"))
        let zeroFlag = try JSONSerialization.jsonObject(with: Data(#"{"atenaNo":"0000123456","fiscalYear":2026,"pensionAnnualAmount":1,"pensionPerPayment":1,"longTermCarePremiumDeducted":0,"longTermCarePremiumPerPayment":0}"#.utf8))
        #expect(!flags.validate(zeroFlag).isEmpty, "0 is not a boolean")
        // What koki receives accepts fields it does not name (EVENTS.md: koki may accept more);
        // what it sends names every field it may carry.
        var extra = good; extra["memo"] = "upstream added this"
        #expect(validator.validate(extra).isEmpty, "an inbound schema accepts an unknown field")
        let receipt = try #require(try SchemaValidator.forType("koiki.receipt"))
        #expect(!receipt.validate(["atenaNo": "0000123456", "nameKanji": "試験"]).isEmpty, "an outbound schema names every field")
        var missing = good; missing["paidOn"] = nil
        var wrongType = good; wrongType["amount"] = "7500"
        var badDate = good; badDate["paidOn"] = "2026-02-30"
        var negative = good; negative["amount"] = -1
        var badEnum = good; badEnum["channel"] = "cash"
        var badKey = good; badKey["atenaNo"] = "123456789018"
        for (name, body) in [("missing", missing), ("wrong type", wrongType), ("bad date", badDate),
                             ("negative", negative), ("bad enum", badEnum), ("bad 宛名番号", badKey)] {
            #expect(!validator.validate(body).isEmpty, "\(name) must be refused")
        }
    }

    @Test func theAsyncAPIDocumentNamesAnExistingSchemaForEveryMessage() throws {
        let text = try String(contentsOf: Env.repoRoot.appendingPathComponent("contracts/asyncapi.yaml"), encoding: .utf8)
        #expect(text.hasPrefix("asyncapi: 3.0.0"))
        let refs = text.components(separatedBy: "$ref: './schemas/").dropFirst().map { String($0.prefix { $0 != "'" }) }
        #expect(refs.count >= 60)
        for ref in refs {
            #expect(FileManager.default.fileExists(atPath: SchemaValidator.directory.appendingPathComponent(ref).path), "\(ref)")
        }
        // Every schema file is used, and every transfer type koki emits has one.
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: SchemaValidator.directory.path))
        #expect(files == Set(refs))
    }

    /// Every topic koki reads or writes is a channel of the AsyncAPI document, with its partitions
    /// and retention as `koki topics create` makes them, and every inbound topic's dead letters too.
    @Test func everyTopicIsAChannelWithItsPartitions() throws {
        let text = try String(contentsOf: Env.repoRoot.appendingPathComponent("contracts/asyncapi.yaml"), encoding: .utf8)
        var partitions: [String: Int] = [:]
        var retention: [String: String] = [:]
        var address: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("    address: ") { address = String(line.dropFirst("    address: ".count)) }
            if line.hasPrefix("        partitions: "), let address { partitions[address] = Int(line.dropFirst("        partitions: ".count)) }
            if line.hasPrefix("          retention.ms: "), let address {
                retention[address] = line.dropFirst("          retention.ms: ".count).split(separator: " ").first.map(String.init)
            }
        }
        for topic in Topics.all {
            #expect(partitions[topic.name] == topic.partitions, "\(topic.name): \(topic.partitions) partitions, the contract says \(String(describing: partitions[topic.name]))")
            let created = Topics.configs(of: topic.name, replicationFactor: 3, retention: .standard)["retention.ms"]
            #expect(retention[topic.name] == created, "\(topic.name): retention \(created ?? "?"), the contract says \(retention[topic.name] ?? "nothing")")
        }
        #expect(Set(partitions.keys) == Set(Topics.all.map(\.name)), "no channel koki does not have")
    }

    /// contracts/check-compat: a property removed from what koki sends is a breaking change on its
    /// topic; on a new topic version it is a new contract.
    @Test func aBreakingChangeNeedsANewTopicVersion() throws {
        let contracts = Env.repoRoot.appendingPathComponent("contracts")
        let (clean, cleanOutput) = try runScript(contracts.appendingPathComponent("check-compat").path, [])
        #expect(clean == 0, "\(cleanOutput)")
        let changed = FileManager.default.temporaryDirectory.appendingPathComponent("contracts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: changed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: contracts.appendingPathComponent("schemas"), to: changed.appendingPathComponent("schemas"))
        let receipt = changed.appendingPathComponent("schemas/koiki.receipt.json")
        var schema = try JSONSerialization.jsonObject(with: Data(contentsOf: receipt)) as! [String: Any]
        var properties = schema["properties"] as! [String: Any]
        properties["amount"] = nil
        schema["properties"] = properties
        schema["required"] = (schema["required"] as! [String]).filter { $0 != "amount" }
        try JSONSerialization.data(withJSONObject: schema).write(to: receipt)
        let asyncapi = try String(contentsOf: contracts.appendingPathComponent("asyncapi.yaml"), encoding: .utf8)
        try asyncapi.write(to: changed.appendingPathComponent("asyncapi.yaml"), atomically: true, encoding: .utf8)
        let published = contracts.appendingPathComponent("published").path
        let (broken, brokenOutput) = try runScript(contracts.appendingPathComponent("check-compat").path, [published, changed.path])
        #expect(broken != 0 && brokenOutput.contains("koiki.receipt.amount: removed"), "\(brokenOutput)")
        try asyncapi.replacingOccurrences(of: "address: transfer.koiki.v1", with: "address: transfer.koiki.v2")
            .write(to: changed.appendingPathComponent("asyncapi.yaml"), atomically: true, encoding: .utf8)
        let (moved, movedOutput) = try runScript(contracts.appendingPathComponent("check-compat").path, [published, changed.path])
        #expect(moved == 0, "on transfer.koiki.v2 it is a new contract: \(movedOutput)")
    }

    func runScript(_ path: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
