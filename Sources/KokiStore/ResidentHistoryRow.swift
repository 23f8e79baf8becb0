import KokiBase
import KokiEvents

/// One 宛名 履歴 row: a resident-register event's snapshot as stored.
public struct ResidentHistoryRow: Sendable {
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
}
