/// Which ready instance starts first when several could.
public enum SchedulingPolicy: Sendable {
    /// Critical path first (DESIGN §4): the stage with the longest chain of
    /// work still behind it, weighted by each stage's typical duration when
    /// known (`stageDurations`, seconds, nil where unknown) else by counts;
    /// a stage's `priority` comes before that. Ready order breaks ties.
    case criticalPath(stageDurations: [Double?] = [])
    /// Strictly in the order instances became ready (the baseline to beat).
    case firstComeFirstServed

    /// Stage indices, best first.
    func stageOrder(of job: Job) -> [Int] {
        guard case .criticalPath(let durations) = self else { return Array(job.stages.indices) }
        let lengths = Self.criticalPathLengths(of: job, durations: durations)
        return job.stages.indices.sorted { a, b in
            let (pa, pb) = (job.stages[a].priority, job.stages[b].priority)
            if pa != pb { return pa > pb }
            if lengths[a] != lengths[b] { return lengths[a] > lengths[b] }
            return a < b
        }
    }

    /// Per stage: its weight plus the longest weighted chain of stages after it.
    ///
    /// At stage level this equals the instance-level critical path: under
    /// the domain rules every instance has at least one dependent in each
    /// stage that depends on its own.
    public static func criticalPathLengths(of job: Job, durations: [Double?]) -> [Double] {
        let known = durations.compactMap { $0 }.filter { $0.isFinite && $0 >= 0 }
        let fallback = known.isEmpty ? 1 : known.reduce(0, +) / Double(known.count)
        let weights = job.stages.indices.map { index -> Double in
            guard index < durations.count, let duration = durations[index], duration.isFinite, duration >= 0 else { return fallback }
            return duration
        }
        var dependents = Array(repeating: [Int](), count: job.stages.count)
        for (index, stage) in job.stages.enumerated() {
            for dependency in stage.dependencies { dependents[dependency].append(index) }
        }
        var lengths = Array(repeating: 0.0, count: job.stages.count)
        for stage in ResumePlan.topologicalOrder(job.stages).reversed() {
            lengths[stage] = weights[stage] + (dependents[stage].map { lengths[$0] }.max() ?? 0)
        }
        return lengths
    }
}

/// What a worker offers the scheduler: room, labels, and whether it takes
/// only stages that name one of its labels (rank 0 beside worker ranks).
public struct WorkerProfile: Hashable, Sendable {
    public var capacity: Capacity
    public var labels: Set<String>
    public var exclusive: Bool

    public init(capacity: Capacity, labels: Set<String> = [], exclusive: Bool = false) {
        self.capacity = capacity
        self.labels = labels
        self.exclusive = exclusive
    }

    /// Whether this worker may run instances of `stage` (room aside).
    public func takes(_ stage: Stage) -> Bool {
        if let label = stage.on { return labels.contains(label) }
        return !exclusive
    }
}
