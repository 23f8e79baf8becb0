import KokiBase

/// `resident.changes.v1` — a resident-register change (住民異動) with the person's whole
/// record after it (EVENTS.md).
public struct ResidentChange: Codable, Sendable, Equatable {
    /// The `ce_type`s of `resident.changes.v1`.
    public enum Kind: String, Sendable, CaseIterable {
        case movedIn = "resident.moved-in"                        // 転入
        case movedOut = "resident.moved-out"                      // 転出
        case movedWithin = "resident.moved-within"                // 転居
        case died = "resident.died"                               // 死亡
        case born = "resident.born"                               // 出生
        case householdChanged = "resident.household-changed"      // 世帯変更
        case nameChanged = "resident.name-changed"                // 氏名変更
        case corrected = "resident.corrected"                     // 職権修正
        case nonresidentRegistered = "resident.nonresident-registered"  // 住登外登録
        case removed = "resident.removed"                         // 職権消除
    }

    public struct Change: Codable, Sendable, Equatable {
        /// 異動日.
        public let effectiveDate: LocalDate
        /// 届出日.
        public let notifiedDate: LocalDate?

        public init(effectiveDate: LocalDate, notifiedDate: LocalDate?) {
            self.effectiveDate = effectiveDate
            self.notifiedDate = notifiedDate
        }
    }

    public enum Sex: String, Codable, Sendable { case male, female }

    /// 続柄 (relationship to the 世帯主).
    public enum Relationship: String, Codable, Sendable { case head, spouse, child, parent, other }

    /// 住民区分.
    public enum ResidentStatus: String, Codable, Sendable {
        case resident
        case foreignResident = "foreign-resident"
        /// 住登外: known to the city, not registered as living here.
        case nonresident
    }

    public struct Address: Codable, Sendable, Hashable {
        public let postalCode: String?
        /// 自治省コード (地方公共団体コード, six digits).
        public let cityCode: String?
        public let prefecture: String?
        public let line: String?
        /// 方書 (building, room).
        public let katagaki: String?
        /// koki's optional extension on `nextAddress`: the day the new address starts. When
        /// it is the move-out day itself, the person is no longer insured from that day.
        public let startsOn: LocalDate?

        public init(postalCode: String?, cityCode: String?, prefecture: String?, line: String?, katagaki: String?,
                    startsOn: LocalDate? = nil) {
            self.postalCode = postalCode
            self.cityCode = cityCode
            self.prefecture = prefecture
            self.line = line
            self.katagaki = katagaki
            self.startsOn = startsOn
        }

        /// Whether the address is in 埼玉県 (by prefecture name, or the city code's
        /// prefecture digits 11).
        public var isInSaitama: Bool {
            if let prefecture, !prefecture.isEmpty { return prefecture == "埼玉県" }
            return cityCode?.hasPrefix("11") ?? false
        }
    }

    public struct Person: Codable, Sendable, Equatable {
        public let nameKanji: String
        public let nameKana: String
        public let sex: Sex
        public let birthDate: LocalDate
        public let relationshipToHead: Relationship
        public let residentStatus: ResidentStatus
        public let address: Address
        public let previousAddress: Address?
        public let nextAddress: Address?
        public let deathDate: LocalDate?

        public init(nameKanji: String, nameKana: String, sex: Sex, birthDate: LocalDate, relationshipToHead: Relationship,
                    residentStatus: ResidentStatus, address: Address, previousAddress: Address? = nil,
                    nextAddress: Address? = nil, deathDate: LocalDate? = nil) {
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
    }

    /// 宛名番号.
    public let atenaNo: String
    /// 個人番号; may be absent.
    public let myNumber: String?
    /// 世帯番号.
    public let householdNo: String
    public let change: Change
    public let person: Person

    public init(atenaNo: String, myNumber: String?, householdNo: String, change: Change, person: Person) {
        self.atenaNo = atenaNo
        self.myNumber = myNumber
        self.householdNo = householdNo
        self.change = change
        self.person = person
    }
}
