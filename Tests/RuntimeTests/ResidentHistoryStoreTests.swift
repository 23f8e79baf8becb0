import Foundation
import KokiBase
import KokiEvents
import KokiStore
import Postgres
import Testing

/// The resident worker recomputes a newcomer from the history rows it has just written instead
/// of reading them back, so those rows must be exactly what the store gives back.
@Suite("Resident history as stored")
struct ResidentHistoryStoreTests {
    @Test func writtenRowsAreWhatTheStoreReadsBack() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let day = LocalDate(iso: "2026-04-01")!
        let full = ResidentChange.Address(postalCode: "3320012", cityCode: "112038", prefecture: "埼玉県",
                                          line: "川口市本町9-9-9", katagaki: "試験荘101", startsOn: day)
        let empty = ResidentChange.Address(postalCode: nil, cityCode: nil, prefecture: nil, line: nil, katagaki: nil)
        let onlyStart = ResidentChange.Address(postalCode: nil, cityCode: nil, prefecture: nil, line: nil, katagaki: nil,
                                               startsOn: day)
        let partial = ResidentChange.Address(postalCode: nil, cityCode: "131130", prefecture: nil, line: nil, katagaki: nil)
        // Every shape an address can come in, in each of the three places.
        let shapes: [(ResidentChange.Address, ResidentChange.Address?, ResidentChange.Address?)] = [
            (full, full, full), (empty, empty, empty), (partial, nil, onlyStart), (onlyStart, onlyStart, nil),
            (full, partial, partial),
        ]
        let rows = shapes.enumerated().map { index, shape in
            ResidentHistoryRow(atenaNo: "0000000001", historyNo: index + 1, eventID: "e-\(index)", changeType: "resident.corrected",
                               effectiveDate: day.adding(days: index), notifiedDate: index == 0 ? nil : day, householdNo: "0000000101",
                               nameKanji: "試験 花子", nameKana: "シケン ハナコ", sex: "female", birthDate: LocalDate(iso: "1950-01-01")!,
                               relationshipToHead: "head", residentStatus: "resident", address: shape.0, previousAddress: shape.1,
                               nextAddress: shape.2, deathDate: index == 4 ? day : nil)
        }
        let (written, read) = try await conn.run { conn in
            try conn.transaction { tx in
                let written = try ResidentStore(tx).insertHistory(rows)
                return (written, try ResidentStore(tx).history(of: ["0000000001"])["0000000001"] ?? [])
            }
        }
        #expect(read.count == rows.count)
        #expect(written == read)
        // The premise: stored, an empty address is gone and only the next one keeps its start.
        #expect(read[1].previousAddress == nil && read[3].address.startsOn == nil && read[3].previousAddress == nil)
        #expect(written != rows)
    }
}

extension ResidentHistoryStoreTests {
    /// A household's row is created with its 世帯主 when a batch first locks it; later batches
    /// change the head only when they know it, and a batch that knows none leaves it.
    @Test func householdLocksRecordTheHead() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        func heads() async throws -> [String] {
            try await conn.run { conn in
                try conn.query("SELECT household_no || ' ' || coalesce(head_atena_no, '-') FROM households ORDER BY 1")
                    .map { try $0.decode(String.self, at: 0) }
            }
        }
        func lock(_ households: [String], _ heads: [String: String]) async throws {
            try await conn.run { conn in try conn.transaction { try ResidentStore($0).lock(households: households, heads: heads) } }
        }
        try await lock(["0000000101", "0000000102"], ["0000000101": "0000000001"])
        #expect(try await heads() == ["0000000101 0000000001", "0000000102 -"], "created with the head the batch knows")
        try await lock(["0000000101"], ["0000000102": "0000000003"])
        #expect(try await heads() == ["0000000101 0000000001", "0000000102 0000000003"], "a head's household is locked too")
        try await lock(["0000000101", "0000000102"], ["0000000101": "0000000002"])
        #expect(try await heads() == ["0000000101 0000000002", "0000000102 0000000003"], "a new head replaces the old; none known keeps it")
    }
}
