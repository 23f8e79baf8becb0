import KokiEvents

extension InboundEvent {
    /// EVENTS.md: an event about a person names their 宛名番号 (10 digits) and is keyed by it,
    /// which keeps one person's events in order on one partition.
    public static func checkPerson(_ atenaNo: String, key: String?) throws(Rejection) {
        do { try InboundRules.person(atenaNo, key: key) } catch { throw Rejection(.validation, error.reason) }
    }

    /// `checkPerson` against this event's key.
    public func checkPerson(_ atenaNo: String) throws(Rejection) {
        try InboundEvent.checkPerson(atenaNo, key: key)
    }

    /// Decodes the body and holds it to the contract's rules for its type (`InboundRules`), the
    /// same in every worker that consumes it.
    public func decodeValid<T: ValidatedBody>(_ type: T.Type) throws(Rejection) -> T {
        let body = try decode(type)
        do { try body.validate(key: key) } catch { throw Rejection(.validation, error.reason) }
        return body
    }
}
