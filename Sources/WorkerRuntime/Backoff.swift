/// Exponential back-off with full jitter, capped.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait before attempt `attempt` (1 = the first retry): a random duration in
    /// [d/2, d] where d = min(initial × 2^(attempt−1), maximum).
    public func delay(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        var ceiling = initial * (1 << exponent)
        if ceiling > maximum { ceiling = maximum }
        let fraction = Double.random(in: 0.5...1.0)
        return ceiling * fraction
    }
}
