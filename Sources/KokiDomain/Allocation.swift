import KokiBase

/// 消込 — how a payment is applied to what a person owes (the documented rule): a payment
/// that names its installment pays that installment; what is left over — or a payment that
/// names none — goes to the oldest unpaid amount first, premiums before late fees and fees
/// of the same due date. A payment naming an installment leaves its excess as an
/// over-payment, which is then appropriated (充当) by the same order; the rest is refunded.
public enum Allocation {
    public enum Kind: String, Sendable, Hashable, Codable {
        case premium
        case lateFee = "late-fee"
        case dunningFee = "dunning-fee"

        var order: Int {
            switch self {
            case .premium: 0
            case .lateFee: 1
            case .dunningFee: 2
            }
        }
    }

    /// Something owed, with what is still open.
    public struct Open: Sendable, Hashable {
        public let id: Int
        public let fiscalYear: Int
        public let installmentNo: Int
        public let method: Installments.Method
        public let kind: Kind
        public let dueDate: LocalDate
        public var balance: Int

        public init(id: Int, fiscalYear: Int, installmentNo: Int, method: Installments.Method, kind: Kind, dueDate: LocalDate,
                    balance: Int) {
            self.id = id
            self.fiscalYear = fiscalYear
            self.installmentNo = installmentNo
            self.method = method
            self.kind = kind
            self.dueDate = dueDate
            self.balance = balance
        }
    }

    /// The order the rule pays in.
    public static func ordered(_ open: [Open]) -> [Open] {
        open.filter { $0.balance > 0 }.sorted {
            ($0.dueDate, $0.kind.order, $0.fiscalYear, $0.installmentNo, $0.id) < ($1.dueDate, $1.kind.order, $1.fiscalYear, $1.installmentNo, $1.id)
        }
    }

    /// What an over-payment may be appropriated to (充当) on `day`: amounts already due — never a
    /// 期 not yet due (that would be collecting early) and never a pension 期 (the 年金保険者
    /// deducts it; DOMAIN.md 還付・充当, 地方税法 17条の2 applied by the city's ordinance).
    public static func appropriable(_ open: Open, on day: LocalDate) -> Bool {
        open.balance > 0 && open.dueDate <= day && open.method == .ordinary
    }

    /// Pays `amount` into `open` by the rule; returns (receivable id, amount) pairs and what is
    /// left. `only` restricts the payment to one receivable (a named installment).
    public static func pay(_ amount: Int, into open: inout [Open], only: Int? = nil) -> (applied: [(id: Int, amount: Int)], left: Int) {
        var left = amount
        var applied: [(Int, Int)] = []
        for candidate in ordered(open) where left > 0 && (only == nil || candidate.id == only) {
            let part = min(left, candidate.balance)
            left -= part
            applied.append((candidate.id, part))
            if let index = open.firstIndex(where: { $0.id == candidate.id }) { open[index].balance -= part }
        }
        return (applied, left)
    }
}

/// 督促 and 時効 dates (DOMAIN.md, 徴収).
public enum Prescription {
    /// The day a 督促 is due to be issued: `daysAfterDue` after the 納期限 (at most 20).
    public static func dunningDay(dueDate: LocalDate, daysAfterDue: Int) -> LocalDate {
        dueDate.adding(days: min(20, max(1, daysAfterDue)))
    }

    /// 時効 (DOMAIN.md; 高確法 160条 — 2 years, a 督促 renews it; 民法 152条 through 地方自治法
    /// 236条: 「時効は、権利の承認があったときは、その時から新たにその進行を始める」): two years counted
    /// from the day after the 納期限, or from the day after the latest renewal — the 督促's
    /// deadline, or the person's 承認 (a partial payment, a 分納誓約). Returns the day it is
    /// complete (不納欠損 from then on).
    public static func completesOn(dueDate: LocalDate, dunningDeadline: LocalDate?, acknowledgedOn: LocalDate? = nil) -> LocalDate {
        max(dueDate, dunningDeadline ?? dueDate, acknowledgedOn ?? dueDate).adding(days: 1).adding(months: 24)
    }
}
