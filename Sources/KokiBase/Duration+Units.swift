extension Duration {
    /// The duration in seconds, for `Thread.sleep` and printed figures.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds, clamped to 0…Int32.max, as C time-out parameters take them.
    public var clampedMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        return Int32(clamping: max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }
}
