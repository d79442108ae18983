/// What a worker reports when an attempt ends.
public struct TaskReport: Equatable, Sendable {
    public var instance: InstanceID
    /// As the worker saw it; rank 0's scheduler may settle it further
    /// (`interrupted` in a stopping run, `lost` from a leaving worker).
    public var outcome: AttemptOutcome
    public var wallSeconds: Double
    /// Peak resident memory of the module's processes, in KiB.
    public var peakMemoryKiB: Int
    /// The last lines of the module's stderr (or stdout) when it failed.
    public var logTail: String
    /// A generator's success (`items: true`): the items its `$COHORT_ITEMS` listed.
    public var items: [String]? = nil

    public init(instance: InstanceID, outcome: AttemptOutcome, wallSeconds: Double, peakMemoryKiB: Int, logTail: String) {
        self.instance = instance
        self.outcome = outcome
        self.wallSeconds = wallSeconds
        self.peakMemoryKiB = peakMemoryKiB
        self.logTail = logTail
    }
}
