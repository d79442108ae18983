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
    /// A stage "works elsewhere" after this many successes on other workers
    /// in service, with at most one failure there in ten attempts.
    public var successesElsewhere: Int

    public init(quickFailuresToDrain: Int = 3, quickFailureSeconds: Double = 60, successesElsewhere: Int = 5) {
        self.quickFailuresToDrain = quickFailuresToDrain
        self.quickFailureSeconds = quickFailureSeconds
        self.successesElsewhere = successesElsewhere
    }
}

extension Scheduler {
    /// Keeps each worker's record of outcomes, and drains one that looks broken.
    mutating func noteOutcome(_ outcome: AttemptOutcome, stage: Int, wallSeconds: Double, on worker: WorkerID,
                              into actions: inout [SchedulerAction]) {
        guard let index = workerIndex[worker] else { return }
        switch outcome {
        case .succeeded:
            workers[index].quickFailures = []
            workers[index].suspect = false
            stageOutcomes[stage, default: [:]][worker, default: (0, 0)].succeeded += 1
            // The stage works here: a suspect that failed at it may be broken.
            // (Most runs have no suspect: no scan of every worker per success.)
            for other in workers.suspectCount > 0 ? workers.indices : 0..<0
            where workers[other].suspect && workers[other].quickFailures.contains(stage) && blameTheNode(of: other) {
                drainIfNotLast(other, reason: "its last \(workers[other].quickFailures.count) attempts failed within \(Int(health.quickFailureSeconds)) s each, at stages that succeed on other workers", into: &actions)
            }
        case .exited, .signaled, .timedOut, .couldNotStart, .badItems:
            stageOutcomes[stage, default: [:]][worker, default: (0, 0)].failed += 1
            if wallSeconds < health.quickFailureSeconds {
                workers[index].quickFailures.append(stage)
            } else {
                workers[index].quickFailures = []
            }
            // The stage fails here too: the suspects' failures at it were not their nodes' fault.
            for other in workers.suspectCount > 0 ? workers.indices : 0..<0
            where other != index && workers[other].suspect && workers[other].quickFailures.contains(stage) {
                workers[other].suspect = false
                workers[other].quickFailures = []
            }
            guard !workers[index].drained, workers[index].quickFailures.count >= health.quickFailuresToDrain else { break }
            let provenAnywhere = workers[index].quickFailures.contains { stageOutcomes[$0]?.values.contains { $0.succeeded > 0 } ?? false }
            if blameTheNode(of: index) {
                drainIfNotLast(index, reason: "its last \(workers[index].quickFailures.count) attempts failed within \(Int(health.quickFailureSeconds)) s each, at stages that succeed on other workers", into: &actions)
            } else if !provenAnywhere && !isLastFor(index) && workers.indices.contains(where: { $0 != index && !workers[$0].drained }) {
                workers[index].suspect = true
            }
        case .interrupted, .lost:
            break
        }
    }

    /// Whether every stage of the worker's run of failures works on the
    /// other workers in service: succeeded there `successesElsewhere` times,
    /// failing at most one attempt in ten (a stage failing for most
    /// subjects fails everywhere: the data or the module, not the node).
    private func blameTheNode(of index: Int) -> Bool {
        let worker = workers[index].id
        return Set(workers[index].quickFailures).allSatisfy { stage in
            var succeeded = 0, failed = 0
            for (other, outcomes) in stageOutcomes[stage] ?? [:] where other != worker {
                guard let slot = workerIndex[other], !workers[slot].drained else { continue }
                succeeded += outcomes.succeeded
                failed += outcomes.failed
            }
            return succeeded >= health.successesElsewhere && failed * 10 <= succeeded + failed
        }
    }

    /// Drains the worker unless it is the last in service able to run a
    /// stage that still has work (then it keeps working, and failing).
    private mutating func drainIfNotLast(_ index: Int, reason: String, into actions: inout [SchedulerAction]) {
        if isLastFor(index) {
            workers[index].suspect = false
        } else {
            drain(index, reason: reason, into: &actions)
        }
    }

    /// Whether the worker is the last in service able to run a stage that still has work.
    private func isLastFor(_ index: Int) -> Bool {
        let others = workers.indices.filter { $0 != index && !workers[$0].drained }
        return graph.job.stages.indices.contains { stage in
            guard tallies[stage].waiting + tallies[stage].ready + tallies[stage].running > 0 else { return false }
            let definition = graph.job.stages[stage]
            let canRun = { (slot: WorkerSlot) in slot.profile.takes(definition) && slot.profile.capacity.fits(definition.demand) }
            guard canRun(workers[index]) else { return false }
            // A multi-node stage needs `nodes` hosts: the last of them counts as last.
            if definition.nodes > 1 { return Set(others.filter { canRun(workers[$0]) }.map(host(ofWorker:))).count < definition.nodes }
            return !others.contains(where: { canRun(workers[$0]) })
        }
    }

    /// The worker's rank was told to stop on its own (its node is going
    /// down): it gets no more work, and what it was running ends `lost`,
    /// to start again elsewhere without using up a retry.
    public mutating func workerLeaving(_ worker: WorkerID, reason: String) -> [SchedulerAction] {
        leaving.insert(worker)
        return drainWorker(worker, reason: reason)
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
}
