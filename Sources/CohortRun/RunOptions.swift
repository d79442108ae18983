public import CohortCore

/// What `cohort run` was asked to do, parsed and checked by the CLI.
public struct RunOptions: Sendable {
    /// The job file as the user named it.
    public var jobFile: String
    /// Sizes and labels for workers.
    public var policy: WorkerPolicy
    /// `--force`: stages to rerun with everything downstream.
    public var forcedStages: [String]
    /// Names the `--force` request, so a requeued job forces once.
    public var forceID: String?
    /// `--only`: stages or single instances.
    public var only: [String]
    /// `--subjects`.
    public var subjects: [String]
    /// `--export` variables with their values (resolved on rank 0).
    public var exported: [EnvironmentVariable]
    /// `--progress`: how progress is shown.
    public var progress: ProgressMode = .auto
    /// `--progress-interval`: seconds between progress lines in a batch log.
    public var progressInterval: Double = 30
    /// `--noop-modules` (for benchmarks, hidden): every instance succeeds at
    /// once on its worker, without a process or a folder, so that a run
    /// measures the scheduler, MPI and the journal alone. Its journal is
    /// kept apart (`.cohort/STUDY.noop-modules/`): no real run trusts it.
    public var noopModules = false
    /// `--no-watch`: watched generators (DESIGN §8) end their watch once
    /// nothing else is left to do, with one last look.
    public var noWatch = false

    public init(jobFile: String, policy: WorkerPolicy = WorkerPolicy(), forcedStages: [String] = [], forceID: String? = nil,
                only: [String] = [], subjects: [String] = [], exported: [EnvironmentVariable] = []) {
        self.jobFile = jobFile
        self.policy = policy
        self.forcedStages = forcedStages
        self.forceID = forceID
        self.only = only
        self.subjects = subjects
        self.exported = exported
    }
}
