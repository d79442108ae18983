/// What one stage's attempts used in a run, for the summary: median and
/// maximum of wall time and of peak memory (the module tree's), so a user
/// can size `cpus:`, `memory:` and `timeout:` from what really happened.
public struct StageResources: Sendable, Equatable {
    public private(set) var wallSeconds: [Double] = []
    public private(set) var peakMemoryKiB: [Int64] = []

    public init() {}

    public mutating func add(wallSeconds: Double, peakMemoryKiB: Int64) {
        self.wallSeconds.append(wallSeconds)
        self.peakMemoryKiB.append(peakMemoryKiB)
    }

    public var attempts: Int { wallSeconds.count }
    public var totalWallSeconds: Double { wallSeconds.reduce(0, +) }
    public var medianWallSeconds: Double? { Self.median(wallSeconds) }
    public var maxWallSeconds: Double? { wallSeconds.max() }
    public var medianPeakMemoryKiB: Int64? { Self.median(peakMemoryKiB.map(Double.init)).map { Int64($0) } }
    public var maxPeakMemoryKiB: Int64? { peakMemoryKiB.max() }

    /// The median of `values`, nil when there are none.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
