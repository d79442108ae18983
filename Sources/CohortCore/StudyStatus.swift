/// Where every instance of a job stands according to its journal, for
/// `cohort status` (read-only: safe while a run is going on).
public struct StudyStatus: Sendable {
    public struct StageCounts: Sendable, Equatable {
        public var name: String
        public var done = 0
        public var failed = 0
        public var running = 0
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
    }

    public private(set) var stages: [StageCounts]
    public private(set) var failures: [Failure] = []

    /// `running` counts instances started and not ended while a run holds
    /// the study (`runIsLive`, from its lock); after a run that died they are to do.
    public init(graph: InstanceGraph, history: JournalHistory, plan: ResumePlan, runIsLive: Bool) {
        stages = graph.job.stages.map { StageCounts(name: $0.name) }
        for index in 0..<graph.instanceCount {
            let instance = InstanceID(index)
            let stage = graph.stage(of: instance)
            stages[stage].total += 1
            let entry = history[graph.name(of: instance)]
            if plan.isDone(instance) {
                stages[stage].done += 1
            } else if entry?.unfinished == true && runIsLive {
                stages[stage].running += 1
            } else if entry?.unfinished != true, let outcome = entry?.lastOutcome, outcome != .succeeded, outcome != .interrupted {
                stages[stage].failed += 1
                failures.append(Failure(instance: instance, outcome: outcome, attempt: entry?.attempts ?? 1, logs: entry?.lastLogs))
            } else {
                stages[stage].toDo += 1
            }
        }
    }
}
