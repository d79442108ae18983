/// Version of the message encoding; the first byte of every message. Ranks
/// of one job run one binary, so a mismatch means a broken installation.
public let wireProtocolVersion: UInt8 = 4

/// A worker's first message: where it runs and what the machine has.
public struct WorkerHello: Equatable, Sendable {
    public var host: String
    public var pid: Int64
    /// Online cores of the worker's machine (not divided among ranks).
    public var machineCores: Int64
    /// Physical memory of the worker's machine in bytes.
    public var machineMemory: Int64

    public init(host: String, pid: Int64, machineCores: Int64, machineMemory: Int64) {
        self.host = host
        self.pid = pid
        self.machineCores = machineCores
        self.machineMemory = machineMemory
    }
}

/// One instance to run: everything a worker needs, so workers never read
/// the job file (it may change, or not be visible, while the job runs).
public struct TaskOrder: Equatable, Sendable {
    public var instance: Int64
    /// `stage:subject:session`, for messages.
    public var name: String
    /// The `run` line with its placeholders substituted.
    public var command: String
    /// Working directory: the job file's folder.
    public var directory: String
    /// The instance's own folder (`COHORT_WORKDIR`), where its results go;
    /// the attempt starts with it empty.
    public var instanceFolder: String
    /// This attempt's own folder: its logs. Never reused.
    public var attemptFolder: String
    /// Where what an earlier attempt left in `instanceFolder` is moved before this one starts.
    public var asideFolder: String
    /// Added to the worker's own environment.
    public var environment: [Variable]
    public var cpus: Int64
    /// Seconds the attempt may run; 0 for no limit.
    public var timeoutSeconds: Double

    public struct Variable: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(
        instance: Int64, name: String, command: String, directory: String,
        instanceFolder: String, attemptFolder: String, asideFolder: String,
        environment: [Variable], cpus: Int64, timeoutSeconds: Double = 0
    ) {
        self.attemptFolder = attemptFolder
        self.asideFolder = asideFolder
        self.timeoutSeconds = timeoutSeconds
        self.instance = instance
        self.name = name
        self.command = command
        self.directory = directory
        self.instanceFolder = instanceFolder
        self.environment = environment
        self.cpus = cpus
    }
}

/// How a module's process ended. A failed module is a result, not an error.
public enum TaskOutcome: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)
    /// Ran past its stage's timeout and was stopped.
    case timedOut
    /// The worker could not start it (folder not creatable, spawn failed).
    case couldNotStart(String)

    public var succeeded: Bool { self == .exited(0) }
}

/// What a worker reports when an instance ends.
public struct TaskReport: Equatable, Sendable {
    public var instance: Int64
    public var outcome: TaskOutcome
    public var wallSeconds: Double
    /// Peak resident memory of the module's processes, in KiB.
    public var peakMemoryKiB: Int64
    /// The last lines of the module's stderr (or stdout) when it failed.
    public var logTail: String

    public init(instance: Int64, outcome: TaskOutcome, wallSeconds: Double, peakMemoryKiB: Int64, logTail: String) {
        self.instance = instance
        self.outcome = outcome
        self.wallSeconds = wallSeconds
        self.peakMemoryKiB = peakMemoryKiB
        self.logTail = logTail
    }
}

/// Messages from a worker rank to rank 0.
public enum WorkerMessage: Equatable, Sendable {
    case hello(WorkerHello)
    case finished(TaskReport)
    /// This worker alone was told to stop (a signal to its rank: the node is
    /// going down): it stops its modules, reports them, and takes no more work.
    case draining(String)
}

/// Messages from rank 0 to a worker rank.
public enum SchedulerMessage: Equatable, Sendable {
    case run(TaskOrder)
    /// No more work: finish running modules' reports and leave.
    case stop
    /// The run is stopping (a signal): stop every running module now and report each.
    case terminate
}
