/// One event of a run, as the journal keeps it (DESIGN §5).
///
/// Instances are named (`stage:subject:session`), not numbered: numbers
/// change when the job file does, names do not.
public enum JournalRecord: Equatable, Sendable {
    /// A `cohort run` began: the job file's hash, where rank 0 runs, how many ranks.
    case runStarted(RunStart)
    /// An attempt of an instance was sent to a worker.
    case started(Attempt)
    /// An attempt ended; `outcome` says how. Only `.succeeded` makes an instance done.
    case finished(Attempt, Ending)
    /// The instance will not run because an instance it waits for failed.
    case skipped(instance: String, cause: String, time: Double)
    /// The run stopped: a signal, or every instance accounted for.
    case runEnded(reason: String, time: Double)

    public struct RunStart: Equatable, Sendable {
        public var jobHash: String
        public var host: String
        public var pid: Int
        public var ranks: Int
        public var time: Double

        public init(jobHash: String, host: String, pid: Int, ranks: Int, time: Double) {
            self.jobHash = jobHash
            self.host = host
            self.pid = pid
            self.ranks = ranks
            self.time = time
        }
    }

    public struct Attempt: Equatable, Sendable {
        public var instance: String
        public var attempt: Int
        public var rank: Int
        public var host: String
        public var time: Double

        public init(instance: String, attempt: Int, rank: Int, host: String, time: Double) {
            self.instance = instance
            self.attempt = attempt
            self.rank = rank
            self.host = host
            self.time = time
        }
    }

    public struct Ending: Equatable, Sendable {
        public enum Outcome: Equatable, Sendable {
            case succeeded
            case exited(Int)
            case signaled(Int)
            case timedOut
            case couldNotStart(String)
            case interrupted
        }

        public var outcome: Outcome
        /// The instance's definition when it ran; a success counts only while it matches.
        public var fingerprint: String
        public var wallSeconds: Double
        public var peakMemoryKiB: Int

        public init(outcome: Outcome, fingerprint: String, wallSeconds: Double, peakMemoryKiB: Int) {
            self.outcome = outcome
            self.fingerprint = fingerprint
            self.wallSeconds = wallSeconds
            self.peakMemoryKiB = peakMemoryKiB
        }
    }
}
