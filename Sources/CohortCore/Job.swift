/// The level of the study tree a stage runs at: once per study, per subject,
/// or per session (aa's module domains).
public enum Domain: String, Sendable, Hashable, CaseIterable {
    case study
    case subject
    case session

    /// How deep in the study tree: study 0, subject 1, session 2.
    public var depth: Int {
        switch self {
        case .study: 0
        case .subject: 1
        case .session: 2
        }
    }
}

/// A subject and the sessions it has (ragged: subjects differ).
public struct Subject: Sendable, Hashable {
    public var name: String
    public var sessions: [String]

    public init(name: String, sessions: [String]) {
        self.name = name
        self.sessions = sessions
    }
}

/// Where a job's subjects come from (DESIGN §2, §8): typed into the job
/// file, or found on disk when the study is opened (`Job.subjects` is then
/// empty until `StudyTree` fills it).
public enum SubjectSource: Sendable, Hashable {
    /// `subjects:` and `sessions:` in the job file.
    case listed
    /// `dataset: {bids: PATH}`: `sub-*` folders, `ses-*` inside each.
    /// `line`: of `dataset:` in the job file, for messages.
    case bids(path: String, line: Int)
    /// `subjects: {file: PATH}`: one subject per line; every subject gets
    /// `sessions` (the job file's one list, or none).
    case file(path: String, line: Int, sessions: [String])

    /// The path the subjects are read from, if any (relative to the job file's folder).
    public var path: String? {
        switch self {
        case .listed: nil
        case .bids(let path, _), .file(let path, _, _): path
        }
    }
}

/// One `name: value` of the job's `env`, kept in file order.
public struct EnvironmentVariable: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A named resource a stage's instances hold while they run: exclusive
/// (a writer) unless `shared` (readers run together, never beside a writer).
public struct StageLock: Sendable, Hashable {
    public var name: String
    public var shared: Bool

    public init(name: String, shared: Bool = false) {
        self.name = name
        self.shared = shared
    }
}

/// One stage of the pipeline: a shell command run once per instance.
public struct Stage: Sendable, Hashable {
    public var name: String
    public var domain: Domain
    /// The `run:` shell command line, placeholders not yet substituted.
    public var command: String
    /// Indices (into `Job.stages`) of the stages this one waits for: the
    /// previous stage when `after:` is absent, none for `after: []`.
    public var dependencies: [Int]
    /// CPUs one instance occupies on its worker.
    public var cpus: Int
    /// Memory one instance reserves on its worker, in bytes.
    public var memory: Int64
    /// GPUs one instance holds, each a device of its worker's given to it
    /// alone (`CUDA_VISIBLE_DEVICES`; DESIGN §7).
    public var gpus: Int
    /// Workers on distinct hosts one instance takes at once (an MPI program
    /// spanning nodes; DESIGN §7); `cpus`, `memory` and `gpus` are per node.
    public var nodes: Int
    /// Extra attempts after a failure.
    public var retries: Int
    /// Seconds an attempt may run before it is stopped and counted as failed.
    public var timeout: Double?
    /// Only workers with this label run it (`rank0`: the scheduler's own process).
    public var on: String?
    /// Added to the stage's critical-path rank: higher starts first.
    public var priority: Int
    /// Locks its instances hold while running.
    public var locks: [StageLock]
    /// Shell run before `command` in the same shell (`module load fsl`), after the job's own.
    public var setup: String?
    /// `items: true`: each instance lists the items it found, one per
    /// line, in `$COHORT_ITEMS` (DESIGN §8): a generator for `foreach` stages.
    public var listsItems: Bool
    /// `foreach: GENERATOR`: the index of that stage. This stage has one
    /// instance per item each generator instance listed, at the
    /// generator's level (`domain` is the generator's) and one below it.
    public var foreach: Int?
    /// `watch: 60s` on a generator: seconds between looks, each a run of
    /// it again while the run goes on, adding the items it newly lists
    /// (DESIGN §8: data still being written, a microscope's movies).
    public var watch: Double?
    /// `until: raw/{session}/DONE`: the watch of an instance ends with the
    /// first look that starts once this file exists (placeholders as in
    /// `run`; relative to the job folder).
    public var until: String?
    /// Line of the stage in the job file, for messages.
    public var line: Int
    /// Line of its `run:`, for messages about the command.
    public var runLine: Int

    public init(
        name: String, domain: Domain, command: String, dependencies: [Int],
        cpus: Int = 1, memory: Int64 = 0, gpus: Int = 0, nodes: Int = 1, retries: Int = 0, timeout: Double? = nil,
        on: String? = nil, priority: Int = 0, locks: [StageLock] = [], setup: String? = nil,
        listsItems: Bool = false, foreach: Int? = nil, watch: Double? = nil, until: String? = nil, line: Int = 0, runLine: Int? = nil
    ) {
        self.watch = watch
        self.until = until
        self.listsItems = listsItems
        self.foreach = foreach
        self.runLine = runLine ?? line
        self.setup = setup
        self.on = on
        self.priority = priority
        self.locks = locks
        self.retries = retries
        self.timeout = timeout
        self.name = name
        self.domain = domain
        self.command = command
        self.dependencies = dependencies
        self.cpus = cpus
        self.memory = memory
        self.gpus = gpus
        self.nodes = nodes
        self.line = line
    }
}

/// A validated job: what a job file describes, with dependencies resolved.
public struct Job: Sendable, Hashable {
    public var study: String
    /// Where instance folders go; relative paths are relative to the job file's folder.
    public var workdir: String
    public var subjects: [Subject]
    /// Where `subjects` come from; not `.listed`: found on disk when the study is opened.
    public var subjectSource: SubjectSource
    public var environment: [EnvironmentVariable]
    /// Shell run before every module in the same shell (`module load fsl`).
    public var setup: String?
    public var stages: [Stage]

    public init(
        study: String, workdir: String = "out", subjects: [Subject], subjectSource: SubjectSource = .listed,
        environment: [EnvironmentVariable] = [], setup: String? = nil, stages: [Stage]
    ) {
        self.subjectSource = subjectSource
        self.setup = setup
        self.study = study
        self.workdir = workdir
        self.subjects = subjects
        self.environment = environment
        self.stages = stages
    }

    /// The index of the stage called `name`, if any.
    public func stageIndex(named name: String) -> Int? {
        stages.firstIndex { $0.name == name }
    }
}
