extension InboundEvent {
    /// EVENTS.md: an event about a person names their 宛名番号 (10 digits) and is keyed by it,
    /// which keeps one person's events in order on one partition.
    public static func checkPerson(_ atenaNo: String, key: String?) throws(Rejection) {
        guard atenaNo.utf8.count == 10, atenaNo.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw Rejection(.validation, "atenaNo is not 10 digits")
        }
        if let key, key != atenaNo { throw Rejection(.validation, "the Kafka key is not the event's atenaNo") }
    }

    /// `checkPerson` against this event's key.
    public func checkPerson(_ atenaNo: String) throws(Rejection) {
        try InboundEvent.checkPerson(atenaNo, key: key)
    }
}
