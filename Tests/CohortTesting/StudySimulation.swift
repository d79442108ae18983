public import CohortCore

/// Runs of a job in memory, journaled as the coordinator journals them:
/// the real resume plan, scheduler and lineage, no processes. Every
/// instance that starts succeeds, unless the run is stopped first.
public struct StudySimulation {
    public private(set) var history = JournalHistory()
    private var runNumber = 0

    public init() {}

    /// One run; returns the names of the instances that succeeded in it, in order.
    /// `stopAfter` successes, the run is stopped and what is running is interrupted.
    @discardableResult
    public mutating func run(_ job: Job, scriptDigests: [UInt64?]? = nil, force: ForceRequest? = nil,
                             selection: (only: [String], subjects: [String])? = nil,
                             stopAfter: Int? = nil, slots: Int = 1_000_000) throws -> [String] {
        let graph = try InstanceGraph(job: job)
        let definitions = Definitions(graph: graph, scriptDigests: scriptDigests ?? job.stages.map { _ in nil })
        let chosen = try selection.map { try Selection(only: $0.only, subjects: $0.subjects, graph: graph) } ?? .everything
        runNumber += 1
        let runID = "run-\(runNumber)"
        apply(.runStarted(.init(id: runID, jobHash: "j", host: "h", pid: 1, ranks: 1, time: 0)))
        if let force { apply(.forced(force, time: 0)) }
        let plan = ResumePlan(graph: graph, history: history, definitions: definitions)
        var lineage = RunLineage(plan: plan, definitions: definitions, runID: runID)
        var scheduler = Scheduler(graph: graph, doneEarlier: plan.isDone, selection: chosen)
        var running: [InstanceID] = []
        func started(_ actions: [SchedulerAction]) {
            for case .start(let instance, _) in actions {
                running.append(instance)
                apply(.started(attempt(instance, graph, starting: true)))
            }
        }
        started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: slots, memory: 0)))
        var succeeded: [String] = []
        while !running.isEmpty {
            let instance = running.removeFirst()
            if let stopAfter, succeeded.count >= stopAfter {
                apply(.finished(attempt(instance, graph), .init(outcome: .interrupted, wallSeconds: 1, peakMemoryKiB: 0)))
                _ = scheduler.instanceFinished(instance, outcome: .interrupted)
                continue
            }
            let number = history[graph.name(of: instance)]?.attempts ?? 1
            apply(.finished(attempt(instance, graph), .init(
                outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 0,
                lineage: lineage.succeeded(instance, attempt: number))))
            succeeded.append(graph.name(of: instance))
            if let stopAfter, succeeded.count == stopAfter { _ = scheduler.stopRequested() }
            started(scheduler.instanceFinished(instance, outcome: .succeeded))
        }
        return succeeded
    }

    /// The plan a new run of `job` would make now.
    public func plan(_ job: Job, scriptDigests: [UInt64?]? = nil, earlierScriptDigests: [UInt64?]? = nil) throws -> (ResumePlan, InstanceGraph) {
        let graph = try InstanceGraph(job: job)
        let definitions = Definitions(graph: graph, scriptDigests: scriptDigests ?? job.stages.map { _ in nil },
                                      earlierScriptDigests: earlierScriptDigests)
        return (ResumePlan(graph: graph, history: history, definitions: definitions), graph)
    }

    /// Per instance that would run: its reason, by name.
    public func reasons(_ job: Job, scriptDigests: [UInt64?]? = nil, earlierScriptDigests: [UInt64?]? = nil) throws -> [String: ResumePlan.Reason] {
        let (plan, graph) = try plan(job, scriptDigests: scriptDigests, earlierScriptDigests: earlierScriptDigests)
        var result: [String: ResumePlan.Reason] = [:]
        for index in 0..<graph.instanceCount {
            if let reason = plan.reasons[index] { result[graph.name(of: InstanceID(index))] = reason }
        }
        return result
    }

    public mutating func apply(_ record: JournalRecord) {
        history.apply(record)
    }

    private func attempt(_ instance: InstanceID, _ graph: InstanceGraph, starting: Bool = false) -> JournalRecord.Attempt {
        let name = graph.name(of: instance)
        let number = (history[name]?.attempts ?? 0) + (starting ? 1 : 0)
        return JournalRecord.Attempt(instance: name, attempt: number, rank: 1, host: "h", time: 0)
    }
}
