import KokiBase
import KokiEvents

/// One 宛名 履歴 row: a resident-register event's snapshot as stored.
public struct ResidentHistoryRow: Sendable, Equatable {
    public let atenaNo: String
    public let historyNo: Int
    public let eventID: String
    public let changeType: String
    public let effectiveDate: LocalDate
    public let notifiedDate: LocalDate?
    public let householdNo: String
    public let nameKanji: String
    public let nameKana: String
    public let sex: String
    public let birthDate: LocalDate
    public let relationshipToHead: String
    public let residentStatus: String
    public let address: ResidentChange.Address
    public let previousAddress: ResidentChange.Address?
    public let nextAddress: ResidentChange.Address?
    public let deathDate: LocalDate?

    public init(atenaNo: String, historyNo: Int, eventID: String, changeType: String, effectiveDate: LocalDate,
                notifiedDate: LocalDate?, householdNo: String, nameKanji: String, nameKana: String, sex: String,
                birthDate: LocalDate, relationshipToHead: String, residentStatus: String,
                address: ResidentChange.Address, previousAddress: ResidentChange.Address?,
                nextAddress: ResidentChange.Address?, deathDate: LocalDate?) {
        self.atenaNo = atenaNo
        self.historyNo = historyNo
        self.eventID = eventID
        self.changeType = changeType
        self.effectiveDate = effectiveDate
        self.notifiedDate = notifiedDate
        self.householdNo = householdNo
        self.nameKanji = nameKanji
        self.nameKana = nameKana
        self.sex = sex
        self.birthDate = birthDate
        self.relationshipToHead = relationshipToHead
        self.residentStatus = residentStatus
        self.address = address
        self.previousAddress = previousAddress
        self.nextAddress = nextAddress
        self.deathDate = deathDate
    }

    /// The row of `rows` that is the person's current record: the latest effective date,
    /// and of one day the latest to arrive.
    public static func current(_ rows: [ResidentHistoryRow]) -> ResidentHistoryRow? {
        rows.max { ($0.effectiveDate, $0.historyNo) < ($1.effectiveDate, $1.historyNo) }
    }

    /// The row as the store gives it back (`ResidentStore.history`): an address with no field
    /// is no address (the current one: an empty one), and only the next address keeps the
    /// day it starts.
    public var asStored: ResidentHistoryRow {
        func stored(_ address: ResidentChange.Address?, keepingStart: Bool) -> ResidentChange.Address? {
            guard let address else { return nil }
            let startsOn = keepingStart ? address.startsOn : nil
            let fields = [address.postalCode, address.cityCode, address.prefecture, address.line, address.katagaki]
            guard fields.contains(where: { $0 != nil }) || startsOn != nil else { return nil }
            return ResidentChange.Address(postalCode: address.postalCode, cityCode: address.cityCode,
                                          prefecture: address.prefecture, line: address.line, katagaki: address.katagaki,
                                          startsOn: startsOn)
        }
        return ResidentHistoryRow(
            atenaNo: atenaNo, historyNo: historyNo, eventID: eventID, changeType: changeType, effectiveDate: effectiveDate,
            notifiedDate: notifiedDate, householdNo: householdNo, nameKanji: nameKanji, nameKana: nameKana, sex: sex,
            birthDate: birthDate, relationshipToHead: relationshipToHead, residentStatus: residentStatus,
            address: stored(address, keepingStart: false)
                ?? ResidentChange.Address(postalCode: nil, cityCode: nil, prefecture: nil, line: nil, katagaki: nil),
            previousAddress: stored(previousAddress, keepingStart: false), nextAddress: stored(nextAddress, keepingStart: true),
            deathDate: deathDate)
    }
}
