/// Which ready instance starts first when several could.
public enum SchedulingPolicy: Sendable {
    /// Critical path first (DESIGN §4): the stage with the longest chain of
    /// work still behind it, weighted by each stage's typical duration when
    /// known (`stageDurations`, seconds, nil where unknown) else by counts;
    /// a stage's `priority` comes before that. Ready order breaks ties.
    case criticalPath(stageDurations: [Double?] = [])
    /// Strictly in the order instances became ready (the baseline to beat).
    case firstComeFirstServed
    /// Finish subjects rather than stages, while that costs no time: a
    /// stage's `priority` first; then, while the work not yet started would
    /// keep every cpu busy for more than twice the longest chain of stages
    /// still to run (`throughputBound`), the ready instance of the earliest
    /// subject (study instances before any; critical path first among one
    /// subject's), so results arrive subject by subject; once the work left
    /// is nearer the chain, critical path first, so the end is not held up
    /// by a chain started late. Weighted by `stageDurations` like `criticalPath`.
    case subjectsFirst(stageDurations: [Double?] = [])

    /// Stage indices, best first.
    func stageOrder(of job: Job) -> [Int] {
        let durations: [Double?]
        switch self {
        case .criticalPath(let known), .subjectsFirst(let known): durations = known
        case .firstComeFirstServed: return Array(job.stages.indices)
        }
        let lengths = Self.criticalPathLengths(of: job, durations: durations)
        return job.stages.indices.sorted { a, b in
            let (pa, pb) = (job.stages[a].priority, job.stages[b].priority)
            if pa != pb { return pa > pb }
            if lengths[a] != lengths[b] { return lengths[a] > lengths[b] }
            return a < b
        }
    }

    /// Per stage: its typical duration (`durations`, else the mean of the
    /// known ones, else 1).
    static func weights(of job: Job, durations: [Double?]) -> [Double] {
        let known = durations.compactMap { $0 }.filter { $0.isFinite && $0 >= 0 }
        let fallback = known.isEmpty ? 1 : known.reduce(0, +) / Double(known.count)
        return job.stages.indices.map { index -> Double in
            guard index < durations.count, let duration = durations[index], duration.isFinite, duration >= 0 else { return fallback }
            return duration
        }
    }

    /// The stage durations the policy weighs (empty: counts).
    var stageDurations: [Double?] {
        switch self {
        case .criticalPath(let durations), .subjectsFirst(let durations): durations
        case .firstComeFirstServed: []
        }
    }

    /// Per stage: its weight plus the longest weighted chain of stages after it.
    ///
    /// At stage level this equals the instance-level critical path: under
    /// the domain rules every instance has at least one dependent in each
    /// stage that depends on its own.
    public static func criticalPathLengths(of job: Job, durations: [Double?]) -> [Double] {
        let weights = weights(of: job, durations: durations)
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
    /// It can hold follow-ons (see `Scheduler.followOnsBelow`): a worker
    /// rank, not rank 0 running instances itself.
    public var queuesFollowOns: Bool
    /// Its GPUs, as `CUDA_VISIBLE_DEVICES` names them (`capacity.gpus` of them).
    public var devices: [String]
    /// Its host: a multi-node instance takes workers on distinct hosts
    /// ("": a host of its own).
    public var host: String

    /// `devices` empty with `capacity.gpus` above 0: devices `0` … `gpus - 1`;
    /// given, they set `capacity.gpus`.
    public init(capacity: Capacity, labels: Set<String> = [], exclusive: Bool = false, queuesFollowOns: Bool = false,
                devices: [String] = [], host: String = "") {
        self.host = host
        self.capacity = capacity
        self.labels = labels
        self.exclusive = exclusive
        self.queuesFollowOns = queuesFollowOns
        self.devices = devices.isEmpty ? (0..<max(0, capacity.gpus)).map(String.init) : devices
        self.capacity.gpus = self.devices.count
    }

    /// Whether this worker may run instances of `stage` (room aside).
    public func takes(_ stage: Stage) -> Bool {
        if let label = stage.on { return labels.contains(label) }
        return !exclusive
    }
}
