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

    /// The row as the store gives it back (`ResidentStore.history`): addresses as
    /// `storedAddress` keeps them, the current one empty rather than absent.
    public var asStored: ResidentHistoryRow {
        func stored(_ address: ResidentChange.Address?, keepingStart: Bool) -> ResidentChange.Address? {
            address.flatMap {
                Self.storedAddress([$0.postalCode, $0.cityCode, $0.prefecture, $0.line, $0.katagaki],
                                   startsOn: keepingStart ? $0.startsOn : nil)
            }
        }
        return ResidentHistoryRow(
            atenaNo: atenaNo, historyNo: historyNo, eventID: eventID, changeType: changeType, effectiveDate: effectiveDate,
            notifiedDate: notifiedDate, householdNo: householdNo, nameKanji: nameKanji, nameKana: nameKana, sex: sex,
            birthDate: birthDate, relationshipToHead: relationshipToHead, residentStatus: residentStatus,
            address: stored(address, keepingStart: false) ?? Self.emptyAddress,
            previousAddress: stored(previousAddress, keepingStart: false), nextAddress: stored(nextAddress, keepingStart: true),
            deathDate: deathDate)
    }

    /// An address as stored: its five fields (postal code, city code, prefecture, line, 方書)
    /// and, for the next address only, the day it starts; none when all of that is empty.
    static func storedAddress(_ fields: [String?], startsOn: LocalDate?) -> ResidentChange.Address? {
        guard fields.contains(where: { $0 != nil }) || startsOn != nil else { return nil }
        return ResidentChange.Address(postalCode: fields[0], cityCode: fields[1], prefecture: fields[2], line: fields[3],
                                      katagaki: fields[4], startsOn: startsOn)
    }

    static let emptyAddress = ResidentChange.Address(postalCode: nil, cityCode: nil, prefecture: nil, line: nil, katagaki: nil)
}
