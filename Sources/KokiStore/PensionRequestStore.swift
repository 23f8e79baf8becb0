import Foundation
import KokiBase
import KokiDomain
import Postgres

/// The 特別徴収 requests the city sent to the 年金保険者 (through 国保連) and the answers it got.
public struct PensionRequestStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) {
        self.tx = tx
    }

    public struct Request: Sendable, Hashable {
        public let requestID: String
        public let atenaNo: String
        public let fiscalYear: Int
        public let kind: PensionRequests.Kind
        public let sentOn: LocalDate
        public let amounts: [PensionRequests.Amount]
        public let reason: String?
        public let accepted: Bool?
        public let resultReason: String?
        public let resultAmounts: [PensionRequests.Amount]?
        public let resultOn: LocalDate?
    }

    static func json(_ amounts: [PensionRequests.Amount]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(amounts)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func amounts(_ text: String?) throws -> [PensionRequests.Amount]? {
        guard let text else { return nil }
        return try JSONDecoder().decode([PensionRequests.Amount].self, from: Data(text.utf8))
    }

    /// Records a request and returns its id (PR<年度>-<n>: it names no person).
    public func insert(atenaNo: String, fiscalYear: Int, kind: PensionRequests.Kind, sentOn: LocalDate,
                       amounts: [PensionRequests.Amount], reason: String?, eventID: String) throws -> String {
        let row = try tx.query("""
            INSERT INTO pension_requests (request_id, atena_no, fiscal_year, kind, sent_on, amounts, reason, event_id)
            VALUES ('PR' || \(fiscalYear) || '-' || nextval('pension_request_seq'), \(atenaNo), \(fiscalYear), \(kind.rawValue),
                    \(sentOn), \(Self.json(amounts))::jsonb, \(reason), \(eventID))
            RETURNING request_id
            """)
        return try row[0].decode(String.self, at: 0)
    }

    static let columns: SQL = """
        request_id, atena_no, fiscal_year, kind, sent_on, amounts::text, reason, accepted, result_reason, result_amounts::text, result_on
        """

    func request(_ row: PostgresRow) throws -> Request {
        Request(requestID: try row.decode(at: 0), atenaNo: try row.decode(at: 1), fiscalYear: try row.decode(at: 2),
                kind: PensionRequests.Kind(rawValue: try row.decode(at: 3)) ?? .request, sentOn: try row.decode(at: 4),
                amounts: try Self.amounts(row.decode(at: 5)) ?? [], reason: try row.decode(at: 6), accepted: try row.decode(at: 7),
                resultReason: try row.decode(at: 8), resultAmounts: try Self.amounts(row.decode(at: 9)), resultOn: try row.decode(at: 10))
    }

    public func request(id: String) throws -> Request? {
        try tx.query("SELECT \(Self.columns) FROM pension_requests WHERE request_id = \(id)").first.map(request)
    }

    /// A person's requests, oldest first (all 年度, or one).
    public func requests(of atenaNo: String, fiscalYear: Int? = nil) throws -> [Request] {
        let year: SQL = fiscalYear.map { "AND fiscal_year = \($0)" } ?? ""
        return try tx.query("""
            SELECT \(Self.columns) FROM pension_requests WHERE atena_no = \(atenaNo) \(year) ORDER BY sent_on, request_id
            """).map(request)
    }

    /// Every request sent in (after, through], by person.
    public func sent(after: LocalDate, through: LocalDate) throws -> [Request] {
        try tx.query("""
            SELECT \(Self.columns) FROM pension_requests WHERE sent_on > \(after) AND sent_on <= \(through) ORDER BY atena_no, request_id
            """).map(request)
    }

    /// The people whose 特別徴収 of `fiscalYear` is over: a request refused or a 中止 sent that
    /// year, or 口座振替 asked for (from then on).
    public func ended(of people: [String], fiscalYear: Int) throws -> Set<String> {
        guard !people.isEmpty else { return [] }
        let yearEnd = LocalDate(year: fiscalYear + 1, month: 3, day: 31)!
        return Set(try tx.query("""
            SELECT atena_no FROM pension_requests
            WHERE atena_no = ANY(\(people)::text[]) AND fiscal_year = \(fiscalYear) AND (kind = 'stop' OR accepted = false)
            UNION
            SELECT atena_no FROM payment_method_changes WHERE atena_no = ANY(\(people)::text[]) AND received_date <= \(yearEnd)
            """).map { try $0.decode(String.self, at: 0) })
    }

    public func recordResult(id: String, accepted: Bool, reason: String?, amounts: [PensionRequests.Amount]?, on day: LocalDate,
                             eventID: String) throws {
        try tx.execute("""
            UPDATE pension_requests SET accepted = \(accepted), result_reason = \(reason),
                result_amounts = \(amounts.map(Self.json))::jsonb, result_on = \(day), result_event_id = \(eventID)
            WHERE request_id = \(id)
            """)
    }
}
