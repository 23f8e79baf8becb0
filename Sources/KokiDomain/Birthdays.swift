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

    /// The age someone born on `self` has at the end of `date`, as the law counts ages
    /// (年齢計算ニ関スル法律 1・2項 with 民法143条: an age is reached at the end of the day
    /// before the birthday). "65 or over on 31 December" therefore includes those born on
    /// 1 January 65 years later — their 65th year ends with 31 December. Born on 29 February,
    /// the age is reached at the end of 28 February in other years.
    public func legalAge(on date: LocalDate) -> Int {
        age(on: date.adding(days: 1))
    }
}
