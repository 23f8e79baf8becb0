import ArgumentParser
import Foundation
import KokiBase
import KokiSecrets
import KokiStore
import Postgres

/// What a data-subject request command is told about the request itself.
struct RequestOptions: ParsableArguments {
    @Option(help: "The day the request was received, YYYY-MM-DD (default: today).")
    var receivedOn: String?

    @Option(help: "The city's reference for the request (受付番号).")
    var reference: String?

    @Option(help: "Who records it (default: $USER).")
    var recordedBy: String?

    func validate() throws {
        if let receivedOn, LocalDate(iso: receivedOn) == nil { throw ValidationError("--received-on must be a date YYYY-MM-DD") }
    }

    var day: LocalDate { receivedOn.flatMap(LocalDate.init(iso:)) ?? TodayInJapan.date() }
    var officer: String { recordedBy ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown" }
}

/// Today's date in Japan (the city's day), for defaults.
enum TodayInJapan {
    static func date() -> LocalDate { LocalDate(daysSinceEpoch: Int((Date().timeIntervalSince1970 + 9 * 3600) / 86_400)) }
}

func validAtenaNo(_ text: String) throws {
    guard text.utf8.count == 10, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
        throw ValidationError("the 宛名番号 must be 10 digits")
    }
}

/// `koki disclose <atenaNo>` — 開示請求: everything held about the person, and every transfer about them.
struct Disclose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "開示請求: export everything koki holds about a person, with what was sent to whom, when and why.",
        discussion: """
            Records the request, then prints a readable report (or JSON). Every table with a 宛名番号 column is \
            searched; the 個人番号 is shown masked. Output holds personal data: hand it only to the requester.
            """)

    @Argument(help: "The person's 宛名番号 (10 digits).")
    var atenaNo: String

    @OptionGroup var request: RequestOptions

    @Flag(help: "Print JSON instead of the readable report.")
    var json = false

    @Option(help: "Write both the JSON and the report into this directory instead of printing.")
    var out: String?

    func validate() throws { try validAtenaNo(atenaNo) }

    mutating func run() async throws {
        let (atenaNo, day, officer, reference) = (self.atenaNo, request.day, request.officer, request.reference)
        let opener = try keyOrFail { try MyNumberOpener.fromEnvironment() }
        let disclosure = try await withDatabase { conn in
            try conn.transaction { tx -> Disclosure? in
                guard try tx.query("SELECT 1 FROM residents WHERE atena_no = \(atenaNo)").count == 1 else { return nil }
                _ = try Disclosure.record("disclosure", atenaNo: atenaNo, receivedOn: day, recordedBy: officer, reference: reference, on: tx)
                // The disclosure reads everything: it is a read like any other, and shows in the next one.
                try AccessLog.record(subject: "person:\(atenaNo)", command: "disclose", fields: ["保有個人情報のすべて"],
                                     purpose: "開示請求" + (reference.map { " \($0)" } ?? ""), operatorName: officer, on: tx)
                return try Disclosure.gather(atenaNo, on: tx, maskMyNumber: { MyNumberSealing.masked($0, atenaNo: atenaNo, opener: opener) })
            }
        }
        guard let disclosure else { throw fail("no person with 宛名番号 \(atenaNo)") }
        let jsonText = try Self.json(disclosure)
        let report = Self.report(disclosure)
        if let out {
            let directory = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let stem = "disclosure-\(atenaNo)-\(day)"
            // Readable by the officer's account only: the dossier is the person's whole record.
            for (name, text) in [(stem + ".json", jsonText), (stem + ".txt", report)] {
                let path = directory.appendingPathComponent(name).path
                try? FileManager.default.removeItem(atPath: path)
                guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw fail("could not write \(path)")
                }
            }
            print("koki disclose: wrote \(stem).json and \(stem).txt to \(out) (\(disclosure.sections.count) kinds of record, "
                  + "\(disclosure.transfers.count) transfers)")
        } else {
            print(json ? jsonText : report)
        }
    }

    static func json(_ d: Disclosure) throws -> String {
        var records: [String: Any] = [:]
        for section in d.sections {
            records[section.table] = try section.rows.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) }
        }
        let encoder = JSONEncoder()
        let transfers = try JSONSerialization.jsonObject(with: try encoder.encode(d.transfers))
        let requests = try JSONSerialization.jsonObject(with: try encoder.encode(d.requests))
        let reads = try JSONSerialization.jsonObject(with: try encoder.encode(d.reads))
        let object: [String: Any] = ["atenaNo": d.atenaNo, "records": records, "transfers": transfers, "requests": requests,
                                     "reads": reads]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func report(_ d: Disclosure) -> String {
        var lines = ["保有個人情報の開示 — 宛名番号 \(d.atenaNo)", ""]
        for section in d.sections {
            lines.append("■ \(section.title)（\(section.table)）\(section.rows.count)件")
            for row in section.rows {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(row.utf8))) as? [String: Any] else { continue }
                let fields = object.keys.sorted().map { key -> String in
                    let value = object[key]!
                    if value is NSNull { return "\(key): —" }
                    if !(value is String), let data = try? JSONSerialization.data(
                        withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]) {
                        return "\(key): \(String(decoding: data, as: UTF8.self))"
                    }
                    return "\(key): \(value)"
                }
                lines.append("  ・" + fields.joined(separator: "、"))
            }
            lines.append("")
        }
        lines.append("■ 提供の記録（いつ・どこへ・何を・どの根拠で）\(d.transfers.count)件")
        for t in d.transfers {
            lines.append("  ・\(t.publishedAt)　\(t.destinationName)　\(t.eventType)")
            lines.append("    項目: \(t.fields.joined(separator: ", "))")
            lines.append("    根拠: \(t.legalBasis)")
        }
        lines.append("")
        lines.append("■ 閲覧の記録（いつ・誰が・何を・なぜ）\(d.reads.count)件")
        for r in d.reads {
            lines.append("  ・\(r.accessedAt)　\(r.operatorName)（\(r.sessionLogin)）　\(r.command)　目的: \(r.purpose)")
            lines.append("    項目: \(r.fields.joined(separator: "、"))")
        }
        lines.append("")
        lines.append("■ 請求の記録 \(d.requests.count)件")
        for r in d.requests {
            lines.append("  ・\(r.receivedOn) \(r.kind)\(r.reference.map { "（受付番号 \($0)）" } ?? "")　記録 \(r.recordedBy) \(r.recordedAt)")
        }
        return lines.joined(separator: "\n")
    }
}

/// `koki usage-stop <atenaNo> [--lift]` — 利用停止: stop (or resume) every transfer about the person
/// that no statute requires.
struct UsageStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage-stop",
        abstract: "利用停止: record (or --lift) a stop of every transfer about a person that no statute requires.",
        discussion: """
            From the relay's next round, a transfer about the person whose rule is not required by statute \
            (`koki policy show`) is held with its reason and counted; required ones still go. Held rows stay held \
            after a lift (they were stopped while the stop was in force).
            """)

    @Argument(help: "The person's 宛名番号 (10 digits).")
    var atenaNo: String

    @Flag(help: "Lift the stop instead of recording one.")
    var lift = false

    @OptionGroup var request: RequestOptions

    func validate() throws { try validAtenaNo(atenaNo) }

    mutating func run() async throws {
        let (atenaNo, lift, day, officer, reference) = (self.atenaNo, self.lift, request.day, request.officer, request.reference)
        let outcome = try await withDatabase { conn in
            try conn.transaction { tx -> String? in
                guard try tx.query("SELECT 1 FROM residents WHERE atena_no = \(atenaNo)").count == 1 else { return nil }
                let inForce = try tx.query("SELECT 1 FROM usage_stops WHERE atena_no = \(atenaNo) FOR UPDATE").count == 1
                if lift {
                    guard inForce else { return "no usage stop is in force for \(atenaNo); nothing lifted" }
                    _ = try Disclosure.record("usage-stop-lifted", atenaNo: atenaNo, receivedOn: day, recordedBy: officer,
                                              reference: reference, on: tx)
                    try tx.execute("DELETE FROM usage_stops WHERE atena_no = \(atenaNo)")
                    return "usage stop lifted for \(atenaNo)"
                }
                guard !inForce else { return "a usage stop is already in force for \(atenaNo)" }
                let id = try Disclosure.record("usage-stop", atenaNo: atenaNo, receivedOn: day, recordedBy: officer,
                                               reference: reference, on: tx)
                try tx.execute("INSERT INTO usage_stops (atena_no, request_id) VALUES (\(atenaNo), \(id))")
                return "usage stop recorded for \(atenaNo): transfers not required by statute are held from the relay's next round"
            }
        }
        guard let outcome else { throw fail("no person with 宛名番号 \(atenaNo)") }
        print("koki usage-stop: \(outcome)")
    }
}
