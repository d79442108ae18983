/// The messages between rank 0 and its worker ranks. The transport
/// (`CohortMPI`) only encodes, decodes and moves them.

/// A worker's first message: where it runs and what the machine has.
public struct WorkerHello: Equatable, Sendable {
    public var host: String
    public var pid: Int
    /// Online cores of the worker's machine (not divided among ranks).
    public var machineCores: Int
    /// Physical memory of the worker's machine in bytes.
    public var machineMemory: Int64
    /// GPUs the worker's node offers (`GPUDiscovery`; not divided among ranks).
    public var gpus: [String] = []

    public init(host: String, pid: Int, machineCores: Int, machineMemory: Int64) {
        self.host = host
        self.pid = pid
        self.machineCores = machineCores
        self.machineMemory = machineMemory
    }
}

/// Messages from a worker rank to rank 0.
public enum WorkerMessage: Equatable, Sendable {
    case hello(WorkerHello)
    /// Attempts that ended, in the order they ended (one message for all
    /// that ended at once: rank 0 reads them as one batch).
    case finished([TaskReport])
    /// This worker alone was told to stop (a signal to its rank: the node is
    /// going down): it stops its modules, reports them, and takes no more work.
    case draining(String)
}

/// Messages from rank 0 to a worker rank.
public enum SchedulerMessage: Equatable, Sendable {
    /// Every stage's recipe, before any attempt: the worker makes each
    /// `TaskOrder` from its `TaskAssignment` and its stage's recipe. With
    /// the cpus rank 0 counts for the worker: while its modules fill them,
    /// no order can come that would start at once (see `WorkerLoop`).
    case recipes([StageRecipe], workerCpus: Int)
    /// Attempts to start, in order.
    case run([TaskAssignment])
    /// No more work: finish running modules' reports and leave.
    case stop
    /// The run is stopping (a signal): stop every running module now and report each.
    case terminate
    /// Give the follow-on back if it has not started (report it not started); else nothing.
    case recall(InstanceID)
}
