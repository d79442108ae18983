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
    /// `--force` was given: every earlier success it covers is out of date.
    case forced(ForceRequest, time: Double)
    /// The instance will not run because an instance it waits for failed.
    case skipped(instance: String, cause: String, time: Double)
    /// The run stopped: a signal, or every instance accounted for.
    case runEnded(reason: String, time: Double)
    /// A worker was drained: it gets no more work in this run.
    case drained(rank: Int, host: String, reason: String, time: Double)
    /// A worker joined the run with this capacity (what `cohort report`
    /// counts idle slots against). Older readers skip the record.
    case workerJoined(rank: Int, host: String, cpus: Int, memory: Int64, time: Double)
    /// The run's subjects and sessions differ from the last recorded ones
    /// (the first run records its whole tree). Older readers skip the record.
    case studyTree(StudyTreeChange)
    /// A generator's attempt listed these items (DESIGN §8); written with its
    /// success, in the same write, so a resumed run knows them without
    /// running it again. Older readers skip the record.
    /// `watching`: the generator watches on (DESIGN §8): a resumed run runs
    /// it again, and what waits for its watch's end is not yet current.
    case itemsListed(instance: String, attempt: Int, items: [String], time: Double, watching: Bool = false)
    /// A watch's look that changed the list: only what it added and what
    /// left (a streaming session's journal would otherwise grow by its
    /// whole list every look). Applied to the last list of the instance.
    case itemsChanged(instance: String, attempt: Int, added: [String], removed: [String], time: Double, watching: Bool)

    public struct RunStart: Equatable, Sendable {
        /// Random, unique to the run: part of each success's stamp ("" in journals of older versions).
        public var id: String
        public var jobHash: String
        public var host: String
        public var pid: Int
        public var ranks: Int
        public var time: Double
        /// The run's `--only` and `--subjects` (empty: everything), so that
        /// `status` can tell what it left alone. Older readers ignore them.
        public var only: [String]
        public var subjects: [String]

        public init(id: String = "", jobHash: String, host: String, pid: Int, ranks: Int, time: Double,
                    only: [String] = [], subjects: [String] = []) {
            self.only = only
            self.subjects = subjects
            self.id = id
            self.jobHash = jobHash
            self.host = host
            self.pid = pid
            self.ranks = ranks
            self.time = time
        }
    }

    public struct Attempt: Equatable, Sendable {
        public var instance: String
        /// Counted over every run of the study: 3 is the instance's third attempt ever.
        public var attempt: Int
        public var rank: Int
        public var host: String
        public var time: Double
        /// The attempt's own folder (its logs), as the job file's folder sees
        /// it: recorded with the end of an attempt that did not succeed (the
        /// only logs `cohort status` points to), not with every start; older
        /// journals have it on start records, which are read as before.
        public var logs: String?
        /// The other workers of a multi-node instance, held by it until it
        /// ends (start records only): the report draws it on each of them.
        public var alsoRanks: [Int]

        public init(instance: String, attempt: Int, rank: Int, host: String, time: Double, logs: String? = nil,
                    alsoRanks: [Int] = []) {
            self.logs = logs
            self.alsoRanks = alsoRanks
            self.instance = instance
            self.attempt = attempt
            self.rank = rank
            self.host = host
            self.time = time
        }
    }

    public struct Ending: Equatable, Sendable {
        /// `.lost` is written as `interrupted`: both mean the attempt did not finish.
        public var outcome: AttemptOutcome
        public var wallSeconds: Double
        public var peakMemoryKiB: Int
        /// For a success: what it was made from. It counts only while its
        /// definition and its inputs are those of the instance now.
        public var lineage: SuccessLineage?

        public init(outcome: AttemptOutcome, wallSeconds: Double, peakMemoryKiB: Int, lineage: SuccessLineage? = nil) {
            self.outcome = outcome
            self.wallSeconds = wallSeconds
            self.peakMemoryKiB = peakMemoryKiB
            self.lineage = lineage
        }
    }
}

/// What the journal keeps of a success to tell later whether it is current.
public struct SuccessLineage: Equatable, Sendable {
    public var definition: InstanceDefinition
    /// Unique to this success (see `Lineage.stamp`).
    public var stamp: UInt64
    /// The digest of the stamps of the successes it was built from.
    public var inputs: UInt64

    public init(definition: InstanceDefinition, stamp: UInt64, inputs: UInt64) {
        self.definition = definition
        self.stamp = stamp
        self.inputs = inputs
    }
}
