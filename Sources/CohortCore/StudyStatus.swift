/// Where every instance of a job stands according to its journal, for
/// `cohort status` (read-only: safe while a run is going on).
public struct StudyStatus: Sendable {
    /// One instance's standing: one character of the subject × stage matrix.
    public enum Cell: UInt8, Sendable, CaseIterable {
        case done, running, failed, skipped, pending
        /// Not done, and left alone by the last run's `--only`/`--subjects`.
        case notSelected

        public var character: Character {
            switch self {
            case .done: "#"
            case .running: ">"
            case .failed: "X"
            case .skipped: "-"
            case .pending: "."
            case .notSelected: "_"
            }
        }

        public var word: String {
            switch self {
            case .done: "done"
            case .running: "running"
            case .failed: "failed"
            case .skipped: "skipped"
            case .pending: "pending"
            case .notSelected: "not selected"
            }
        }

        /// Folding several instances into one cell (a subject's sessions):
        /// the one that needs attention first shows.
        public var urgency: Int {
            switch self {
            case .failed: 5
            case .running: 4
            case .pending: 3
            case .skipped: 2
            case .notSelected: 1
            case .done: 0
            }
        }

        public static func folded(_ cells: some Sequence<Cell>) -> Cell? {
            cells.max { $0.urgency < $1.urgency }
        }
    }

    public struct StageCounts: Sendable, Equatable {
        public var name: String
        public var done = 0
        public var failed = 0
        public var running = 0
        /// Skipped because an instance it waits for failed (counted in `toDo` too).
        public var skipped = 0
        public var toDo = 0
        public var total = 0
    }

    public struct Failure: Sendable, Equatable {
        public var instance: InstanceID
        public var outcome: AttemptOutcome
        /// Its last attempt, counted over every run.
        public var attempt: Int
        /// That attempt's folder as the journal names it (nil in journals of older versions).
        public var logs: String?
        public var rank: Int
        public var host: String
        public var wallSeconds: Double
        public var peakMemoryKiB: Int

        public init(instance: InstanceID, outcome: AttemptOutcome, attempt: Int, logs: String?, rank: Int, host: String,
                    wallSeconds: Double, peakMemoryKiB: Int) {
            self.instance = instance
            self.outcome = outcome
            self.attempt = attempt
            self.logs = logs
            self.rank = rank
            self.host = host
            self.wallSeconds = wallSeconds
            self.peakMemoryKiB = peakMemoryKiB
        }
    }

    public struct Running: Sendable, Equatable {
        public var instance: InstanceID
        public var rank: Int
        public var host: String
        /// Seconds since the epoch.
        public var since: Double
    }

    public private(set) var stages: [StageCounts]
    /// Per instance, in the graph's order.
    public private(set) var cells: [Cell]
    public private(set) var failures: [Failure] = []
    public private(set) var running: [Running] = []
    /// Watched generators whose watch goes on (DESIGN §8): to do, in that
    /// the next run looks again, but not work left undone.
    public private(set) var watching: [InstanceID] = []

    /// `running` counts instances started and not ended while a run holds
    /// the study (`runIsLive`, from its lock); after a run that died they are to do.
    /// `lastSelection`: the last run's `--only`/`--subjects`; instances it
    /// left alone that are not done show as not selected.
    public init(graph: InstanceGraph, history: JournalHistory, plan: ResumePlan, runIsLive: Bool, lastSelection: Selection = .everything) {
        stages = graph.job.stages.map { StageCounts(name: $0.name) }
        cells = Array(repeating: .pending, count: graph.instanceCount)
        for index in 0..<graph.instanceCount {
            let instance = InstanceID(index)
            let stage = graph.stage(of: instance)
            stages[stage].total += 1
            if plan.isDone(instance) {
                stages[stage].done += 1
                cells[index] = .done
                continue
            }
            let entry = plan.recorded[instance]
            if let entry, entry.unfinished && runIsLive {
                stages[stage].running += 1
                cells[index] = .running
                running.append(Running(instance: instance, rank: entry.lastRank, host: entry.lastHost, since: entry.lastStartTime))
            } else if let entry, !entry.unfinished, let outcome = entry.lastOutcome, outcome.isFailure {
                stages[stage].failed += 1
                cells[index] = .failed
                failures.append(Failure(instance: instance, outcome: outcome, attempt: max(1, entry.attempts), logs: entry.lastLogs,
                                        rank: entry.lastRank, host: entry.lastHost, wallSeconds: entry.lastWallSeconds,
                                        peakMemoryKiB: entry.lastPeakMemoryKiB))
            } else if entry?.skipped == true && entry?.unfinished != true {
                stages[stage].skipped += 1
                stages[stage].toDo += 1
                cells[index] = .skipped
            } else {
                stages[stage].toDo += 1
                if plan.reasons[index] == .watching { watching.append(instance) }
                if !lastSelection.isEverything && !lastSelection.contains(instance, in: graph) { cells[index] = .notSelected }
            }
        }
    }
}
