import KokiBase

extension LocalDate {
    /// The `years`th birthday of someone born on `self`. Born on 29 February, the
    /// birthday falls on 1 March in years that are not leap years (DOMAIN.md, 資格).
    public func birthday(_ years: Int) -> LocalDate {
        let year = self.year + years
        if month == 2 && day == 29 && !LocalDate.isLeap(year) {
            return LocalDate(year: year, month: 3, day: 1)!
        }
        return LocalDate(year: year, month: month, day: day)!
    }

    /// Whole years of age on `date`, counting each birthday as above.
    public func age(on date: LocalDate) -> Int {
        var years = date.year - year
        if date < birthday(years) { years -= 1 }
        return years
    }
}
