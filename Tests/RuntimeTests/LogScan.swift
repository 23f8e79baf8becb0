import Foundation
import Testing

/// Personal data must never reach a log (seed III-7): the end-to-end stacks scan every child's
/// log when they stop. A finding names the rule, the log and the line number; the test output
/// shows the offending text, which in these tests is synthetic.
enum LogScan {
    struct Finding: CustomStringConvertible {
        let rule: String
        let log: String
        let line: Int
        let excerpt: String
        var description: String { "\(rule) in \(log) line \(line): \(excerpt)" }
    }

    /// Words of koki's own vocabulary a log may use (no name or address is among them).
    static let vocabulary: Set<String> = []

    /// A 12-digit number standing alone (a 個人番号); digits inside longer ids do not count.
    static let myNumber = try! NSRegularExpression(pattern: "(?<![0-9A-Za-z-])[0-9]{12}(?![0-9A-Za-z])")
    /// Kanji, kana, full-width forms: every synthetic name and address is written in them.
    static let japanese = try! NSRegularExpression(pattern: "[\\p{Han}\\p{Hiragana}\\p{Katakana}\\x{3000}-\\x{303F}\\x{FF00}-\\x{FFEF}]+")
    /// A body or part of one: an escaped JSON object, or the name of a personal field.
    static let payload = try! NSRegularExpression(
        pattern: "\\{\\\\\"|\\b(nameKanji|nameKana|myNumber|birthDate|postalCode|katagaki|previousAddress|nextAddress|bankAccountRef)\\b")

    static func findings(in text: String, log: String) -> [Finding] {
        var found: [Finding] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(line)
            let range = NSRange(line.startIndex..., in: line)
            func add(_ rule: String) {
                found.append(Finding(rule: rule, log: log, line: index + 1, excerpt: String(line.prefix(300))))
            }
            if myNumber.firstMatch(in: line, range: range) != nil { add("a 12-digit number") }
            let words = japanese.matches(in: line, range: range).map { (line as NSString).substring(with: $0.range) }
            if let word = words.first(where: { !vocabulary.contains($0) }) { add("Japanese text '\(word)'") }
            if payload.firstMatch(in: line, range: range) != nil { add("a payload fragment") }
        }
        return found
    }

    /// Records a test issue for each finding in the children's logs.
    static func check(_ children: [ChildProcess]) {
        for child in children {
            for finding in findings(in: child.log, log: child.name) {
                Issue.record("personal data in a log: \(finding)")
            }
        }
    }
}

@Suite("Log scan")
struct LogScanTests {
    @Test func theScanFindsEachKindOfPersonalData() {
        let lines = [
            #"{"level":"info","message":"applied","myNumber":"123456789018"}"#,
            #"{"level":"warning","message":"rejected 試験 太郎"}"#,
            #"{"level":"error","message":"川口市本町9-9-9"}"#,
            #"{"level":"error","message":"bad body {\"atenaNo\":\"0000000001\"}"}"#,
            #"{"level":"error","message":"reason","field":"nameKana"}"#,
        ]
        let found = LogScan.findings(in: lines.joined(separator: "\n"), log: "t")
        #expect(Set(found.map(\.line)) == [1, 2, 3, 4, 5], "\(found)")
    }

    @Test func idsTimesAndOffsetsAreNotPersonalData() {
        let line = #"{"time":"2026-11-28T16:45:59.319Z","level":"info","message":"batch applied","eventId":"9f1c0e2a-1b2c-4d5e-8f90-123456789012","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","offset":"1234567","atenaNo":"0000000001","durationNs":"1795884369369"}"#
        #expect(LogScan.findings(in: line, log: "t").isEmpty)
    }
}
