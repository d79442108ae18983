/// When a worker is taken for broken and drained (DESIGN §7, issue 9): a
/// node where everything fails at once (a stale mount, a missing tool)
/// frees its slot instantly and would take the next instance, retries
/// included, until most of the study failed there.
///
/// The node is blamed, not the module, only when the stages that fail there
/// work elsewhere: a worker whose last `quickFailuresToDrain` attempts all
/// failed within `quickFailureSeconds`, at stages that have succeeded on
/// another worker in service, gets no more work; the run goes on with the
/// rest. A stage that fails everywhere (a broken module) drains nobody.
/// A node that fails in milliseconds, before any stage has succeeded
/// anywhere, is held as suspect (no new work) until another worker reports
/// on one of those stages: a success there drains it, a failure there
/// clears it, and so does a run with nothing left running. A worker that is
/// the last in service for some stage with work left (the only `gpu` one)
/// is never drained.
public struct WorkerHealth: Sendable {
    public var quickFailuresToDrain: Int
    public var quickFailureSeconds: Double

    public init(quickFailuresToDrain: Int = 3, quickFailureSeconds: Double = 60) {
        self.quickFailuresToDrain = quickFailuresToDrain
        self.quickFailureSeconds = quickFailureSeconds
    }
}

extension Scheduler {
    /// Keeps each worker's record of outcomes, and drains one that looks broken.
    mutating func noteOutcome(_ result: AttemptResult, stage: Int, wallSeconds: Double, on worker: WorkerID,
                              into actions: inout [SchedulerAction]) {
        guard let index = workerIndex[worker] else { return }
        switch result {
        case .succeeded:
            workers[index].quickFailures = []
            workers[index].suspect = false
            stageSucceededOn[stage, default: []].insert(worker)
            // The stage works here: a suspect that failed at it is broken.
            for other in workers.indices where workers[other].suspect && workers[other].quickFailures.contains(stage) {
                drainIfNotLast(other, reason: "its last \(workers[other].quickFailures.count) attempts failed within \(Int(health.quickFailureSeconds)) s each, at stages that succeed on \(worker)", into: &actions)
            }
        case .failed:
            if wallSeconds < health.quickFailureSeconds {
                workers[index].quickFailures.append(stage)
            } else {
                workers[index].quickFailures = []
            }
            // The stage fails here too: the suspects' failures at it were not their nodes' fault.
            for other in workers.indices where other != index && workers[other].suspect && workers[other].quickFailures.contains(stage) {
                workers[other].suspect = false
                workers[other].quickFailures = []
            }
            guard !workers[index].drained, workers[index].quickFailures.count >= health.quickFailuresToDrain else { break }
            let failedStages = Set(workers[index].quickFailures)
            let worksElsewhere = failedStages.contains { failed in
                (stageSucceededOn[failed] ?? []).contains { $0 != worker && workerIndex[$0].map { !workers[$0].drained } ?? false }
            }
            let provenAnywhere = failedStages.contains { !(stageSucceededOn[$0] ?? []).isEmpty }
            if worksElsewhere {
                drainIfNotLast(index, reason: "its last \(workers[index].quickFailures.count) attempts failed within \(Int(health.quickFailureSeconds)) s each, at stages that succeed on other workers", into: &actions)
            } else if !provenAnywhere && workers.indices.contains(where: { $0 != index && !workers[$0].drained }) {
                workers[index].suspect = true
            }
        case .interrupted, .lost:
            break
        }
    }

    /// Drains the worker unless it is the last in service able to run a
    /// stage that still has work (then it keeps working, and failing).
    private mutating func drainIfNotLast(_ index: Int, reason: String, into actions: inout [SchedulerAction]) {
        let others = workers.indices.filter { $0 != index && !workers[$0].drained }
        for stage in graph.job.stages.indices where tallies[stage].waiting + tallies[stage].ready + tallies[stage].running > 0 {
            let definition = graph.job.stages[stage]
            let canRun = { (slot: WorkerSlot) in slot.profile.takes(definition) && slot.profile.capacity.fits(definition.demand) }
            if canRun(workers[index]) && !others.contains(where: { canRun(workers[$0]) }) {
                workers[index].suspect = false
                return
            }
        }
        drain(index, reason: reason, into: &actions)
    }

    /// The worker gets no more work; what runs there finishes.
    public mutating func drainWorker(_ worker: WorkerID, reason: String) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        if let index = workerIndex[worker], !workers[index].drained { drain(index, reason: reason, into: &actions) }
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    /// With nothing running no report will come to settle a suspicion: clear them all.
    mutating func clearSuspectsIfIdle() -> Bool {
        guard runningCount == 0, workers.contains(where: \.suspect) else { return false }
        for index in workers.indices { workers[index].suspect = false }
        return true
    }

    private mutating func drain(_ index: Int, reason: String, into actions: inout [SchedulerAction]) {
        workers[index].suspect = false
        workers[index].drained = true
        actions.append(.drain(workers[index].id, reason: reason))
    }

    /// Workers drained so far.
    public var drainedWorkers: [WorkerID] { workers.filter(\.drained).map(\.id) }
}
