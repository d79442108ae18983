/// One attempt of an instance to run: everything a worker needs, so
/// workers never read the job file (it may change, or not be visible,
/// while the job runs).
public struct TaskOrder: Equatable, Sendable {
    public var instance: InstanceID
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
    /// Added to the worker's own environment: the stage's share (one array
    /// for all its orders, never copied per order), then the instance's own
    /// (`COHORT_*`), which come last and win.
    public var stageEnvironment: [EnvironmentVariable]
    public var instanceEnvironment: [EnvironmentVariable] = []
    /// Everything added to the worker's environment, in order.
    public var environment: [EnvironmentVariable] { stageEnvironment + instanceEnvironment }
    public var cpus: Int
    /// Seconds the attempt may run; 0 for no limit.
    public var timeoutSeconds: Double
    /// A follow-on: start only once this instance, running on the same
    /// worker, has ended (at once if it has already).
    public var after: InstanceID? = nil
    /// A generator's `$COHORT_ITEMS`: read by its worker when it succeeds.
    public var itemsFile: String? = nil
    /// A multi-node instance's OpenMPI hostfile (`COHORT_HOSTFILE`).
    public var hostfile: FileToWrite? = nil

    public init(
        instance: InstanceID, name: String, command: String, directory: String,
        instanceFolder: String, attemptFolder: String, asideFolder: String,
        stageEnvironment: [EnvironmentVariable], instanceEnvironment: [EnvironmentVariable] = [], cpus: Int,
        timeoutSeconds: Double = 0
    ) {
        self.attemptFolder = attemptFolder
        self.asideFolder = asideFolder
        self.timeoutSeconds = timeoutSeconds
        self.instance = instance
        self.name = name
        self.command = command
        self.directory = directory
        self.instanceFolder = instanceFolder
        self.stageEnvironment = stageEnvironment
        self.instanceEnvironment = instanceEnvironment
        self.cpus = cpus
    }
}

/// A small file a worker writes into an attempt's folder before the module starts.
public struct FileToWrite: Equatable, Sendable {
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}
