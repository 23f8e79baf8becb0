import Foundation
import KokiBase
import Postgres

/// 開示請求 (seed IV): everything koki holds about one person — every row of every table that
/// names the person's 宛名番号, with history — and, from the transfer log, what was sent about
/// them to whom, when and under which basis. Found by column, not by a list, so a table added
/// later is disclosed without a change here. Nothing about anyone else: rows are the person's
/// own, and a transfer is shown by its destination, type, field names and basis (never the
/// other people it was also about).
public struct Disclosure: Sendable {
    public struct Section: Sendable {
        public let table: String
        public let title: String
        /// Each row as a JSON object (column → value), in a stable order.
        public let rows: [String]
    }

    public struct TransferLine: Sendable, Codable {
        public let publishedAt: String
        public let destination: String
        public let destinationName: String
        public let eventType: String
        public let eventID: String
        public let fields: [String]
        public let legalBasis: String
    }

    public struct Request: Sendable, Codable {
        public let id: Int64
        public let kind: String
        public let receivedOn: LocalDate
        public let recordedBy: String
        public let reference: String?
        public let recordedAt: String
    }

    public let atenaNo: String
    public let sections: [Section]
    public let transfers: [TransferLine]
    public let requests: [Request]
    /// Who looked at the person's data, when and why (`access_log`).
    public let reads: [AccessLog.Entry]

    /// Tables that hold koki's own machinery, not found by column: published transfers are shown
    /// from the log, and the outbox's unpublished rows and the dead letters by their key (below).
    static let machinery: Set<String> = ["outbox", "inbox", "dead_letters", "audit_log", "data_subject_requests", "usage_stops",
                                         "consumer_offsets", "schema_migrations"]

    /// 個人番号 columns: replaced by the masked digits.
    static let sealedColumns = ["my_number_sealed", "my_number_hash", "my_number_key_id"]

    public static let titles: [String: String] = [
        "residents": "宛名（現在）", "resident_history": "宛名履歴", "households": "世帯（世帯主として）",
        "household_memberships": "世帯の所属", "qualification_periods": "資格期間", "qualification_history": "資格履歴",
        "qualification_certificates": "資格確認書", "public_assistance_notices": "生活保護の通知",
        "disability_notices": "障害認定の通知", "special_address_notices": "住所地特例の通知",
        "former_dependents": "元被扶養者", "department_enrollments": "関係課の登録", "forwarded_applications": "取り次いだ申請",
        "incomes": "所得", "pension_deduction_targets": "特別徴収対象", "premium_exemptions": "減免",
        "assessments": "賦課（現在）", "assessment_history": "賦課履歴", "installment_plans": "期割計画",
        "installments": "期割", "burden_ratios": "負担割合", "income_transfers": "所得の提供",
        "payments": "収納", "receivables": "調定", "ledger": "収納台帳", "refunds": "還付・充当",
        "collection_markers": "滞納整理の記録", "pension_requests": "特別徴収の依頼・変更・中止と結果",
        "union_assessments": "広域連合の賦課決定", "union_qualifications": "広域連合の資格決定", "discrepancies": "突合",
        "insured_number_history": "被保険者番号の履歴",
        "dead_letters": "適用できなかった受信（本文は含まない）", "outbox": "未送信・保留中の送信",
    ]

    /// Everything about `atenaNo`. `maskMyNumber` turns a sealed 個人番号 into what is shown.
    public static func gather(_ atenaNo: String, on conn: PostgresConnection,
                              maskMyNumber: (String) -> String) throws -> Disclosure {
        // Every table with a column that holds a 宛名番号: `atena_no` or `…_atena_no`.
        var columns: [String: [String]] = [:]
        for row in try conn.query("""
            SELECT c.table_name, c.column_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
              AND (c.column_name = 'atena_no' OR c.column_name LIKE '%\\_atena\\_no')
            ORDER BY c.table_name, c.column_name
            """) {
            let table: String = try row.decode(at: 0)
            guard !machinery.contains(table) else { continue }
            columns[table, default: []].append(try row.decode(at: 1))
        }
        var sections: [Section] = []
        for (table, names) in columns.sorted(by: { ($0.key == "residents" ? "" : $0.key) < ($1.key == "residents" ? "" : $1.key) }) {
            var condition: SQL = "false"
            for name in names { condition = "\(condition) OR t.\(identifier: name) = \(atenaNo)" }
            let rows = try conn.query("SELECT to_jsonb(t)::text FROM \(identifier: table) t WHERE \(condition) ORDER BY t::text")
            guard !rows.isEmpty else { continue }
            sections.append(Section(table: table, title: titles[table] ?? table,
                                    rows: try rows.map { try masking(try $0.decode(at: 0), with: maskMyNumber) }))
        }
        // What koki could not apply about the person (the reference, not the raw body), and what
        // it has not sent yet or holds back (the transfer policy's holds, Kafka's refusals).
        let letters = try conn.query("""
            SELECT jsonb_build_object('id', id, 'consumer_group', consumer_group, 'topic', topic, 'partition', partition,
                                      'offset', "offset", 'ce_type', ce_type, 'error_kind', error_kind, 'reason', reason,
                                      'status', status, 'dead_lettered_at', dead_lettered_at, 'body_kept', payload IS NOT NULL)::text
            FROM dead_letters WHERE message_key = \(atenaNo) ORDER BY id
            """)
        if !letters.isEmpty {
            sections.append(Section(table: "dead_letters", title: titles["dead_letters"]!, rows: try letters.map { try $0.decode(at: 0) }))
        }
        let pending = try conn.query("""
            SELECT jsonb_build_object('id', id, 'topic', topic, 'ce_type', ce_type, 'created_at', created_at,
                                      'held_at', held_at, 'held_reason', held_reason)::text
            FROM outbox WHERE message_key = \(atenaNo) AND published_at IS NULL ORDER BY id
            """)
        if !pending.isEmpty {
            sections.append(Section(table: "outbox", title: titles["outbox"]!, rows: try pending.map { try $0.decode(at: 0) }))
        }
        let transfers = try conn.query("""
            SELECT to_char(a.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), a.destination,
                   coalesce(d.name, a.destination), a.event_type, a.event_id, a.fields, a.legal_basis
            FROM audit_log a LEFT JOIN transfer_destinations d ON d.destination = a.destination
            WHERE a.atena_no = \(atenaNo) OR a.subjects @> ARRAY[\(atenaNo)]::text[]
            ORDER BY a.seq
            """).map {
            TransferLine(publishedAt: try $0.decode(at: 0), destination: try $0.decode(at: 1), destinationName: try $0.decode(at: 2),
                         eventType: try $0.decode(at: 3), eventID: try $0.decode(at: 4), fields: try $0.decode(at: 5),
                         legalBasis: try $0.decode(at: 6))
        }
        return Disclosure(atenaNo: atenaNo, sections: sections, transfers: transfers, requests: try requests(of: atenaNo, on: conn),
                          reads: try AccessLog.reads(of: atenaNo, on: conn))
    }

    /// The person's recorded requests, oldest first.
    public static func requests(of atenaNo: String, on conn: PostgresConnection) throws -> [Request] {
        try conn.query("""
            SELECT id, kind, received_on, recorded_by, reference,
                   to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM data_subject_requests WHERE atena_no = \(atenaNo) ORDER BY id
            """).map {
            Request(id: try $0.decode(at: 0), kind: try $0.decode(at: 1), receivedOn: try $0.decode(at: 2),
                    recordedBy: try $0.decode(at: 3), reference: try $0.decode(at: 4), recordedAt: try $0.decode(at: 5))
        }
    }

    /// Records a request; returns its id.
    public static func record(_ kind: String, atenaNo: String, receivedOn: LocalDate, recordedBy: String, reference: String?,
                              on conn: PostgresConnection) throws -> Int64 {
        try conn.query("""
            INSERT INTO data_subject_requests (atena_no, kind, received_on, recorded_by, reference)
            VALUES (\(atenaNo), \(kind), \(receivedOn), \(recordedBy), \(reference)) RETURNING id
            """)[0].decode(Int64.self, at: 0)
    }

    /// The row with its 個人番号 columns replaced by the masked digits.
    static func masking(_ json: String, with mask: (String) -> String) throws -> String {
        guard var object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
        let sealed = object["my_number_sealed"] as? String
        for column in sealedColumns { object.removeValue(forKey: column) }
        if let sealed { object["my_number"] = mask(sealed) }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
