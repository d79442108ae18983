/// The allocation's end and how long each stage typically takes.
public struct Walltime: Sendable {
    /// Seconds since the epoch.
    public var end: Double
    /// Per stage: median seconds from the journal, nil when unknown (then it is started anyway).
    public var stageDurations: [Double?]
    /// When the allocation started (seconds since the epoch), if known.
    public var start: Double?
    /// Seconds before `end` when the stop signal comes (`--signal=B:USR1@120`):
    /// work must end by then.
    public var lead: Double

    public init(end: Double, stageDurations: [Double?], start: Double? = nil, lead: Double = 0) {
        self.end = end
        self.stageDurations = stageDurations
        self.start = start
        self.lead = lead
    }

    /// When work must be done by.
    public var usableEnd: Double { end - lead }

    /// Whether `stage` typically takes longer than a whole allocation of this
    /// length: resubmitting the same job would hold it again, for ever.
    public func neverFits(_ stage: Int) -> Bool {
        guard let start, let duration = stageDurations[stage] else { return false }
        return duration > usableEnd - start
    }
}
