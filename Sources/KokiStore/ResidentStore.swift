import Foundation
import KokiBase
import KokiEvents
import Postgres

/// SQL for 宛名 and 世帯: the resident history, the per-person projection, household rows
/// and memberships. Everything takes the batch's open transaction.
/// Lookups by a key that is not unique go key by key (`KeyedLookup`).
public struct ResidentStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    /// Each person's current household (for people the store knows).
    public func households(of people: [String]) throws -> [String: String] {
        guard !people.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for row in try tx.query("""
            SELECT atena_no, household_no FROM residents WHERE atena_no = ANY(\(people)::text[]) AND household_no IS NOT NULL
            """) {
            result[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return result
    }

    /// Locks people, in key order, creating their rows if missing. A person's events share a
    /// partition, so this rarely waits: only for the clock's due people, whom another
    /// partition's batch may hold.
    ///
    /// A row this transaction inserts needs no `FOR UPDATE`: anyone else must insert it first
    /// too, and that waits for this transaction to end. Only rows that were there are locked
    /// (on a city's first load, almost none; locking each new row cost a write and a WAL
    /// record per person).
    ///
    /// Returns the people whose rows it created. Everything the resident worker stores about a
    /// person (history, notices, qualification, projection) is written under this lock, so
    /// for these it holds nothing yet: the batch need not look (on a city's first load, that
    /// is almost everyone).
    public func lock(people: [String]) throws -> Set<String> {
        let people = Array(Set(people)).sorted()
        guard !people.isEmpty else { return [] }
        let created = Set(try tx.query("""
            INSERT INTO residents (atena_no) SELECT unnest(\(people)::text[]) ON CONFLICT DO NOTHING RETURNING atena_no
            """).map { try $0.decode(String.self, at: 0) })
        let existing = people.filter { !created.contains($0) }
        guard !existing.isEmpty else { return created }
        _ = try tx.query("""
            SELECT atena_no FROM residents WHERE atena_no = ANY(\(existing)::text[]) ORDER BY atena_no FOR UPDATE
            """)
        return created
    }

    /// Locks households, in key order, and records their 世帯主 (`heads`: the households whose
    /// head the batch knows). A household's members arrive on different partitions, so
    /// concurrent batches meet here: a batch takes these locks after its people (so two batches
    /// never wait for each other in a circle) and as late as it can, since another batch that
    /// shares a household waits for it to commit.
    ///
    /// A missing row is created with its head, and creating it is its lock (as for people); a
    /// row that was there is locked, and written only when its head changed.
    public func lock(households: [String], heads: [String: String]) throws {
        let households = Array(Set(households).union(heads.keys)).sorted()
        guard !households.isEmpty else { return }
        let created = Set(try tx.query("""
            INSERT INTO households (household_no, head_atena_no)
            SELECT * FROM unnest(\(households)::text[], \(households.map { heads[$0] })::text[])
            ON CONFLICT DO NOTHING RETURNING household_no
            """).map { try $0.decode(String.self, at: 0) })
        let existing = households.filter { !created.contains($0) }
        guard !existing.isEmpty else { return }
        _ = try tx.query("""
            SELECT household_no FROM households WHERE household_no = ANY(\(existing)::text[])
            ORDER BY household_no FOR UPDATE
            """)
        let withHeads = existing.filter { heads[$0] != nil }
        guard !withHeads.isEmpty else { return }
        try tx.execute("""
            UPDATE households h SET head_atena_no = v.a
            FROM unnest(\(withHeads)::text[], \(withHeads.map { heads[$0] })::text[]) AS v(hh, a)
            WHERE h.household_no = v.hh AND h.head_atena_no IS DISTINCT FROM v.a
            """)
    }

    /// Marks households for the next business day's 住基情報 (their rows are locked by
    /// `lock(households:heads:)` in the same transaction).
    public func markRecordDue(_ households: [String]) throws {
        guard !households.isEmpty else { return }
        try tx.execute("""
            UPDATE households SET record_due = true
            WHERE household_no = ANY(\(Array(Set(households)).sorted())::text[]) AND NOT record_due
            """)
    }

    /// The households marked for 住基情報 now (unlocked: to lock with the batch's others).
    public func recordsDue() throws -> Set<String> {
        Set(try tx.query("SELECT household_no FROM households WHERE record_due").map { try $0.decode(String.self, at: 0) })
    }

    /// Takes the households marked for 住基情報, locked in order. A batch that marks one while
    /// this transaction runs either committed before the lock was granted (its members are read
    /// after it) or leaves its mark for the next business day.
    public func takeRecordsDue() throws -> [String] {
        let households = try tx.query("""
            SELECT household_no FROM households WHERE record_due ORDER BY household_no FOR UPDATE
            """).map { try $0.decode(String.self, at: 0) }
        guard !households.isEmpty else { return [] }
        try tx.execute("UPDATE households SET record_due = false WHERE household_no = ANY(\(households)::text[])")
        return households
    }

    /// The highest 履歴番号 per person (0 for someone new).
    public func lastHistoryNumbers(_ people: [String]) throws -> [String: Int] {
        guard !people.isEmpty else { return [:] }
        var result: [String: Int] = [:]
        for row in try tx.query("""
            SELECT h.atena_no, max(h.history_no)
            FROM \(KeyedLookup.rows(of: "resident_history", where: "atena_no", in: people, as: "h", selecting: "atena_no, history_no"))
            GROUP BY h.atena_no
            """) {
            result[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return result
    }

    /// Appends history rows; returns them as `history(of:)` would read them back.
    @discardableResult
    public func insertHistory(_ rows: [ResidentHistoryRow]) throws -> [ResidentHistoryRow] {
        guard !rows.isEmpty else { return [] }
        func column<T: PostgresEncodable>(_ value: (ResidentHistoryRow) -> T) -> [T] { rows.map(value) }
        try tx.execute("""
            INSERT INTO resident_history (\(Self.historyColumns()))
            SELECT * FROM unnest(\(column(\.atenaNo))::text[], \(column(\.historyNo))::int[], \(column(\.eventID))::text[],
                \(column(\.changeType))::text[], \(column(\.effectiveDate))::date[], \(column(\.notifiedDate))::date[],
                \(column(\.householdNo))::text[], \(column(\.nameKanji))::text[], \(column(\.nameKana))::text[],
                \(column(\.sex))::text[], \(column(\.birthDate))::date[], \(column(\.relationshipToHead))::text[],
                \(column(\.residentStatus))::text[],
                \(column(\.address.postalCode))::text[], \(column(\.address.cityCode))::text[],
                \(column(\.address.prefecture))::text[], \(column(\.address.line))::text[], \(column(\.address.katagaki))::text[],
                \(column(\.previousAddress?.postalCode))::text[], \(column(\.previousAddress?.cityCode))::text[],
                \(column(\.previousAddress?.prefecture))::text[], \(column(\.previousAddress?.line))::text[],
                \(column(\.previousAddress?.katagaki))::text[],
                \(column(\.nextAddress?.postalCode))::text[], \(column(\.nextAddress?.cityCode))::text[],
                \(column(\.nextAddress?.prefecture))::text[], \(column(\.nextAddress?.line))::text[],
                \(column(\.nextAddress?.katagaki))::text[], \(column(\.nextAddress?.startsOn))::date[],
                \(column(\.deathDate))::date[])
            """)
        return rows.map(\.asStored)
    }

    /// A 個人番号 as the store keeps it: sealed (`MyNumberVault.seal`) and its search hash.
    public struct SealedMyNumber: Sendable {
        public let atenaNo: String
        public let sealed: String
        public let hash: Data

        public init(atenaNo: String, sealed: String, hash: Data) {
            self.atenaNo = atenaNo
            self.sealed = sealed
            self.hash = hash
        }
    }

    /// Stores sealed 個人番号 values (validated before sealing), latest arrival wins.
    public func setMyNumbers(_ numbers: [SealedMyNumber]) throws {
        guard !numbers.isEmpty else { return }
        try tx.execute("""
            UPDATE residents r SET my_number_sealed = v.sealed, my_number_hash = v.hash
            FROM unnest(\(numbers.map(\.atenaNo))::text[], \(numbers.map(\.sealed))::text[], \(numbers.map(\.hash))::bytea[])
                AS v(atena_no, sealed, hash)
            WHERE r.atena_no = v.atena_no
            """)
    }

    /// The 宛名番号 of everyone whose 個人番号 has this search hash.
    public func people(withMyNumberHash hash: Data) throws -> [String] {
        try tx.query("SELECT atena_no FROM residents WHERE my_number_hash = \(hash) ORDER BY atena_no").map { try $0.decode(at: 0) }
    }

    /// Every history row of these people.
    public func history(of people: [String]) throws -> [String: [ResidentHistoryRow]] {
        guard !people.isEmpty else { return [:] }
        var result: [String: [ResidentHistoryRow]] = [:]
        for row in try tx.query("""
            SELECT \(Self.historyColumns(alias: "h")) FROM \(KeyedLookup.rows(of: "resident_history", where: "atena_no", in: people, as: "h"))
            ORDER BY h.atena_no, h.history_no
            """) {
            let history = try ResidentHistoryRow(row)
            result[history.atenaNo, default: []].append(history)
        }
        return result
    }

    /// What the rules derived for one person, written back to its projection row.
    public struct Projection: Sendable {
        public let atenaNo: String
        public let currentHistoryNo: Int?
        public let householdNo: String?
        public let birthDate: LocalDate?
        public let deathDate: LocalDate?
        public let livesHere: Bool
        public let insured: Bool
        public let insuredNumber: String?
        public let asOf: LocalDate?
        public let nextReviewOn: LocalDate?
        /// A 個人番号 the batch received (nil: the stored one stays).
        public let myNumber: SealedMyNumber?

        public init(atenaNo: String, currentHistoryNo: Int?, householdNo: String?, birthDate: LocalDate?,
                    deathDate: LocalDate?, livesHere: Bool, insured: Bool, insuredNumber: String?,
                    asOf: LocalDate?, nextReviewOn: LocalDate?, myNumber: SealedMyNumber? = nil) {
            self.atenaNo = atenaNo
            self.currentHistoryNo = currentHistoryNo
            self.householdNo = householdNo
            self.birthDate = birthDate
            self.deathDate = deathDate
            self.livesHere = livesHere
            self.insured = insured
            self.insuredNumber = insuredNumber
            self.asOf = asOf
            self.nextReviewOn = nextReviewOn
            self.myNumber = myNumber
        }
    }

    /// The 宛名 履歴 columns, in the order `ResidentHistoryRow` reads and `insertHistory` writes them.
    static let historyColumnNames = [
        "atena_no", "history_no", "event_id", "change_type", "effective_date", "notified_date", "household_no",
        "name_kanji", "name_kana", "sex", "birth_date", "relationship_to_head", "resident_status",
        "postal_code", "city_code", "prefecture", "address_line", "katagaki",
        "previous_postal_code", "previous_city_code", "previous_prefecture", "previous_address_line", "previous_katagaki",
        "next_postal_code", "next_city_code", "next_prefecture", "next_address_line", "next_katagaki", "next_starts_on",
        "death_date",
    ]

    static func historyColumns(alias: String? = nil) -> SQL {
        SQL(unsafeSQL: historyColumnNames.map { column in alias.map { "\($0).\(column)" } ?? column }.joined(separator: ", "))
    }

    /// Writes the projections (and the 個人番号 that came with them) in one statement: each row
    /// written once per batch, as one new version. `residents` has seven indexes, and a change
    /// to an indexed column is not a HOT update: every version costs an entry in each. Rows the
    /// batch recomputed to what they already hold are left alone.
    public func update(_ projections: [Projection]) throws {
        guard !projections.isEmpty else { return }
        let p = projections
        try tx.execute("""
            UPDATE residents r SET current_history_no = v.h, household_no = v.hh, birth_date = v.b, death_date = v.d,
                lives_here = v.l, insured = v.i, insured_number = v.n, as_of = v.a,
                next_review_on = v.nr,
                my_number_sealed = coalesce(v.ms, r.my_number_sealed), my_number_hash = coalesce(v.mh, r.my_number_hash)
            FROM unnest(\(p.map(\.atenaNo))::text[], \(p.map(\.currentHistoryNo))::int[], \(p.map(\.householdNo))::text[],
                        \(p.map(\.birthDate))::date[], \(p.map(\.deathDate))::date[], \(p.map(\.livesHere))::bool[],
                        \(p.map(\.insured))::bool[], \(p.map(\.insuredNumber))::text[], \(p.map(\.asOf))::date[],
                        \(p.map(\.nextReviewOn))::date[], \(p.map(\.myNumber?.sealed))::text[],
                        \(p.map(\.myNumber?.hash))::bytea[]) AS v(atena_no, h, hh, b, d, l, i, n, a, nr, ms, mh)
            WHERE r.atena_no = v.atena_no
              AND (r.current_history_no, r.household_no, r.birth_date, r.death_date, r.lives_here, r.insured,
                   r.insured_number, r.as_of, r.next_review_on, r.my_number_sealed, r.my_number_hash)
                  IS DISTINCT FROM (v.h, v.hh, v.b, v.d, v.l, v.i, v.n, v.a, v.nr,
                                    coalesce(v.ms, r.my_number_sealed), coalesce(v.mh, r.my_number_hash))
            """)
    }

    /// What the projection already holds about a person.
    public struct Known: Sendable {
        public let insuredNumber: String?
        /// Sealed: it travels to the outbox as it is and is opened by the relay only for a
        /// destination allowed to receive it.
        public let myNumber: String?
        public let asOf: LocalDate?
    }

    /// Each person's 被保険者番号, 個人番号 and last as-of date, where known.
    public func known(_ people: [String]) throws -> [String: Known] {
        guard !people.isEmpty else { return [:] }
        var result: [String: Known] = [:]
        for row in try tx.query("""
            SELECT atena_no, insured_number, my_number_sealed, as_of FROM residents WHERE atena_no = ANY(\(people)::text[])
            """) {
            result[try row.decode(String.self, at: 0)] = Known(insuredNumber: try row.decode(at: 1), myNumber: try row.decode(at: 2),
                                                               asOf: try row.decode(at: 3))
        }
        return result
    }

    /// One membership span of a person in a household.
    public struct Membership: Sendable {
        public let atenaNo: String
        public let householdNo: String
        public let relationshipToHead: String
        public let from: LocalDate
        public let through: LocalDate?

        public init(atenaNo: String, householdNo: String, relationshipToHead: String, from: LocalDate, through: LocalDate?) {
            self.atenaNo = atenaNo
            self.householdNo = householdNo
            self.relationshipToHead = relationshipToHead
            self.from = from
            self.through = through
        }
    }

    /// Replaces these people's 世帯 membership history with `memberships`.
    public func replaceMemberships(of people: [String], with memberships: [Membership]) throws {
        guard !people.isEmpty else { return }
        try KeyedLookup.delete(from: "household_memberships", where: "atena_no", in: people, on: tx)
        guard !memberships.isEmpty else { return }
        let m = memberships
        try tx.execute("""
            INSERT INTO household_memberships (atena_no, household_no, relationship_to_head, from_date, through_date)
            SELECT * FROM unnest(\(m.map(\.atenaNo))::text[], \(m.map(\.householdNo))::text[],
                                 \(m.map(\.relationshipToHead))::text[], \(m.map(\.from))::date[], \(m.map(\.through))::date[])
            """)
    }

    /// What the projection says about the current members of households who live here:
    /// enough to tell whether a household concerns the insurer without reading anyone's record.
    public func memberSummaries(of households: [String])
        throws -> [(householdNo: String, birthDate: LocalDate?, insured: Bool)] {
        guard !households.isEmpty else { return [] }
        return try tx.query("""
            SELECT r.household_no, r.birth_date, r.insured
            FROM \(KeyedLookup.rows(of: "residents", where: "household_no", in: households, as: "r"))
            WHERE r.lives_here
            """).map { (try $0.decode(at: 0), try $0.decode(at: 1), try $0.decode(at: 2)) }
    }

    /// The current members of households who live here, with their current records,
    /// 個人番号 and whether they are insured — the content of 住基情報.
    public func currentMembers(of households: [String]) throws -> [(row: ResidentHistoryRow, myNumber: String?, insured: Bool)] {
        guard !households.isEmpty else { return [] }
        return try tx.query("""
            SELECT \(Self.historyColumns(alias: "h")), r.my_number_sealed, r.insured
            FROM \(KeyedLookup.rows(of: "residents", where: "household_no", in: households, as: "r"))
            -- each member's current record by its key, not a join the planner might make a hash of
            CROSS JOIN LATERAL (SELECT * FROM resident_history
                                WHERE atena_no = r.atena_no AND history_no = r.current_history_no OFFSET 0) h
            WHERE r.lives_here
            ORDER BY h.household_no, h.atena_no
            """).map { (try ResidentHistoryRow($0), try $0.decode(String?.self, at: 30), try $0.decode(Bool.self, at: 31)) }
    }

    /// People who live here and were born in `range` (for 年齢到達予定者).
    public func livingBorn(in range: ClosedRange<LocalDate>) throws -> [(atenaNo: String, birthDate: LocalDate)] {
        try tx.query("""
            SELECT atena_no, birth_date FROM residents
            WHERE lives_here AND birth_date BETWEEN \(range.lowerBound) AND \(range.upperBound) ORDER BY atena_no
            """).map { (try $0.decode(String.self, at: 0), try $0.decode(LocalDate.self, at: 1)) }
    }

    /// People whose qualification may change by `date`.
    public func due(by date: LocalDate) throws -> [(atenaNo: String, householdNo: String?)] {
        try tx.query("""
            SELECT atena_no, household_no FROM residents WHERE next_review_on <= \(date) ORDER BY atena_no
            """).map { (try $0.decode(String.self, at: 0), try $0.decode(String?.self, at: 1)) }
    }
}

extension ResidentHistoryRow {
    init(_ row: PostgresRow) throws {
        func address(_ first: Int, startsOn: LocalDate? = nil) throws -> ResidentChange.Address? {
            Self.storedAddress(try (first..<first + 5).map { try row.decode(String?.self, at: $0) }, startsOn: startsOn)
        }
        self.init(atenaNo: try row.decode(at: 0), historyNo: try row.decode(at: 1), eventID: try row.decode(at: 2),
                  changeType: try row.decode(at: 3), effectiveDate: try row.decode(at: 4), notifiedDate: try row.decode(at: 5),
                  householdNo: try row.decode(at: 6), nameKanji: try row.decode(at: 7), nameKana: try row.decode(at: 8),
                  sex: try row.decode(at: 9), birthDate: try row.decode(at: 10), relationshipToHead: try row.decode(at: 11),
                  residentStatus: try row.decode(at: 12),
                  address: try address(13) ?? Self.emptyAddress,
                  previousAddress: try address(18), nextAddress: try address(23, startsOn: try row.decode(at: 28)),
                  deathDate: try row.decode(at: 29))
    }
}
