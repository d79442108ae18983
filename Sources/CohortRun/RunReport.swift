public import CohortCore

/// A worker as rank 0 sees it.
public struct WorkerInfo: Sendable {
    public var id: WorkerID
    public var host: String
    public var profile: WorkerProfile
    /// Its process id (0 for rank 0 itself), to tell whether it died.
    public var pid: Int = 0
    /// Its host has GPUs (its own share may be none): each of its modules
    /// is told exactly the devices it holds, never the rank's whole list.
    public var onGPUHost = false

    public var capacity: Capacity { profile.capacity }
}

/// A worker taken out of the run (a broken node), and why.
public struct DrainedWorker: Sendable {
    public var worker: WorkerInfo
    public var reason: String
}

/// One instance that failed, with what a user needs to act on it.
public struct FailureRecord: Sendable {
    public var name: String
    public var outcome: AttemptOutcome
    public var worker: WorkerInfo
    /// The last attempt's folder: its logs.
    public var logFolder: String
    public var logTail: String
    public var wallSeconds: Double
    /// The last attempt's number, counted over every run (as its log folder is).
    public var attempt: Int
    /// The attempts before the last one in this run, each with its own logs.
    public var earlierAttempts: [FailedAttempt] = []
    /// Why, in plain words, where it can be told (see `FailureCause`).
    public var cause: String?

    /// The stage's name (the part of the instance's name before the first `:`).
    public var stage: String { String(name.prefix { $0 != ":" }) }

    /// Failures alike: same stage, cause and last log line.
    var signature: String {
        failureSignature(stage: stage, cause: cause ?? outcome.text, lastLine: LogExcerpt.lines(logTail).last ?? "")
    }
}

/// An attempt that failed and was retried; its logs stay in its own folder.
public struct FailedAttempt: Sendable {
    /// Counted over every run.
    public var attempt: Int
    public var outcome: AttemptOutcome
    public var logFolder: String
}

/// An instance that succeeded after failed attempts in this run.
public struct RetriedInstance: Sendable {
    public var name: String
    public var failedAttempts: [FailedAttempt]
}

/// How a run ended.
public struct RunSummary: Sendable {
    public var study: String
    public var stageNames: [String]
    public var tallies: [StageTally]
    public var failures: [FailureRecord]
    /// Instances that succeeded only after retries (their failed attempts' logs are kept).
    public var retried: [RetriedInstance] = []
    /// Workers that got no more work, and why.
    public var drained: [DrainedWorker] = []
    /// Per stage, what its attempts in this run used.
    public var resources: [StageResources] = []
    /// Per stage, the GPUs each instance holds, on all its nodes (empty: no stage asks for any).
    public var stageGPUs: [Int] = []
    public var elapsedSeconds: Double
    public var workers: [WorkerInfo]
    /// The job file as the user gave it, for rerun commands.
    public var jobFile: String
    /// The signal that stopped the run, if one did.
    public var stopSignal: Int32?
    /// The run ended with work left that would not fit in the allocation's remaining time.
    public var heldForWalltime = false
    /// Stages with ready instances that no worker left in the run could start.
    public var stuck: [UnplaceableStage] = []
    /// Held stages that take longer than a whole allocation: resubmitting cannot help.
    public var tooLongForAnyAllocation: [TooLongStage] = []

    /// DESIGN §2: 130/143 when a signal stopped the run; else 0 when every
    /// selected instance is done (now or earlier), 1 when any failed, was
    /// skipped, or could not run.
    public var exitCode: Int32 {
        if let stopSignal { return StopSignals.exitCode(for: stopSignal) }
        if heldForWalltime { return tooLongForAnyAllocation.isEmpty ? 143 : 1 }
        let allDone = tallies.allSatisfy { $0.succeeded + $0.doneEarlier + $0.unselected == $0.total }
        return allDone ? 0 : 1
    }
}

/// Why an attempt ended without a result: each says something else to the user.
public enum EarlyEnd: Sendable {
    /// Stopped with the run: it runs again next time.
    case interrupted
    /// Lost with a worker that left: it starts again in this run.
    case lost
    /// A follow-on its worker gave back before starting it: nothing happened.
    case givenBack
}

/// Receives what happens during a run: progress lines, the summary.
public protocol RunReporter: AnyObject {
    /// `listsItems`: generators will add instances as they list items.
    func runStarted(study: String, instances: Int, listsItems: Bool, workers: [WorkerInfo])
    func instanceStarted(_ name: String, on worker: WorkerInfo)
    /// `cause`: a failure's cause in plain words where it can be told (see
    /// `FailureCause`); `endedEarly`: the attempt gave no result, and why.
    func instanceFinished(_ name: String, report: TaskReport, on worker: WorkerInfo, endedEarly: EarlyEnd?, cause: String?,
                          finished: Int, total: Int)
    func instanceSkipped(_ name: String, because cause: String)
    /// `attempt` is numbered over every run, like the attempt folders.
    func instanceRetrying(_ name: String, retry: Int, of retries: Int, attempt: Int)
    func stopping(signal: String)
    /// A worker rank died (its process is gone): the MPI job ends.
    func workerDied(_ worker: WorkerInfo)
    /// A worker gets no more work (see `WorkerHealth`).
    func workerDrained(_ worker: WorkerInfo, reason: String)
    /// A stage is not started for now: its typical duration exceeds the time left.
    func holding(stage: String, typicalSeconds: Double, secondsLeft: Double)
    /// Instances this run will try beyond those planned: items just listed,
    /// a watch's next look.
    func added(_ count: Int, toStage stage: String)
    /// A watched generator listed `newItems` items it had not listed
    /// before; it looks again in `nextLookIn` seconds, or (nil) its watch ended.
    func watching(_ name: String, newItems: Int, nextLookIn: Double?)
    func runFinished(_ summary: RunSummary)
    /// Why a run will not start or cannot go on, or a warning (for stderr).
    func problem(_ text: String)
    /// A line for the user before the run (for stdout).
    func note(_ text: String)
    /// Called often while the run waits for events: time-based progress.
    func tick()
}
