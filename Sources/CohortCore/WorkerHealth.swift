/// When a worker is taken for broken and drained (DESIGN §7, issue 9): a
/// node where everything fails at once (a stale mount, a missing tool)
/// frees its slot instantly and would take the next instance, retries
/// included, until most of the study failed there.
///
/// The node is blamed, not the module or the data, only when its run of
/// failures would be too unlikely on a healthy node: a worker whose last
/// `quickFailuresToDrain` or more attempts all failed within
/// `quickFailureSeconds` is drained when the chance of such a run there by
/// bad luck (each failure as likely as its stage fails on the other
/// workers in service), times the attempts reported so far in the run
/// (each a place where such a run could end), is below `falseDrainOdds`.
/// A flaky stage (10 % of attempts fail everywhere) gives some healthy
/// worker three failures in a row in a long run: that alone drains a
/// healthy worker in about one run in a hundred, and nobody is drained by
/// a stage that fails everywhere (a broken module); a node that
/// fails everything is drained after three or four failures once its
/// stages have worked elsewhere, however many bad subjects failed
/// everywhere before. A worker with such a run that cannot be blamed yet is
/// held as suspect (no new work: a node failing in milliseconds would
/// otherwise take most attempts before the others could report) until
/// another worker fails at one of those stages too, nothing is left
/// running, or `quickFailureSeconds` pass; its run of failures is kept, as
/// evidence, until it succeeds. A worker that is the last in service for
/// some stage with work left (the only `gpu` one) is never drained.
public struct WorkerHealth: Sendable {
    public var quickFailuresToDrain: Int
    public var quickFailureSeconds: Double
    /// A stage's failures count against a node only after this many
    /// successes on other workers in service.
    public var successesElsewhere: Int
    /// About how likely a run may drain a healthy worker by bad luck.
    public var falseDrainOdds: Double

    public init(quickFailuresToDrain: Int = 3, quickFailureSeconds: Double = 60, successesElsewhere: Int = 5,
                falseDrainOdds: Double = 0.01) {
        self.quickFailuresToDrain = quickFailuresToDrain
        self.quickFailureSeconds = quickFailureSeconds
        self.successesElsewhere = successesElsewhere
        self.falseDrainOdds = falseDrainOdds
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
                drainIfNotLast(other, reason: drainReason(other), into: &actions)
            }
        case .exited, .signaled, .timedOut, .couldNotStart, .badItems:
            stageOutcomes[stage, default: [:]][worker, default: (0, 0)].failed += 1
            if wallSeconds < health.quickFailureSeconds {
                workers[index].quickFailures.append(stage)
            } else {
                workers[index].quickFailures = []
            }
            // The stage fails here too: the suspects' failures at it may not
            // be their nodes' fault. They work again; their runs stay, and a
            // next failure weighs them with this one counted.
            for other in workers.suspectCount > 0 ? workers.indices : 0..<0
            where other != index && workers[other].suspect && workers[other].quickFailures.contains(stage) {
                workers[other].suspect = false
            }
            guard !workers[index].drained, workers[index].quickFailures.count >= health.quickFailuresToDrain else { break }
            if blameTheNode(of: index) {
                drainIfNotLast(index, reason: drainReason(index), into: &actions)
            } else if !isLastFor(index) && workers.indices.contains(where: { $0 != index && !workers[$0].drained }) {
                workers[index].suspect = true
                workers[index].suspectSince = lastTimeReading
            }
        case .interrupted, .lost:
            break
        }
    }

    /// Whether the worker's run of failures is too unlikely for a healthy
    /// node (see `WorkerHealth`). Each failure is taken as likely as its
    /// stage fails on the other workers in service, estimated high
    /// ((failed + 1) / (attempts + 2)), and as certain while the stage has
    /// succeeded there fewer than `successesElsewhere` times.
    private func blameTheNode(of index: Int) -> Bool {
        let worker = workers[index].id
        var failuresPerStage: [Int: Int] = [:]
        for stage in workers[index].quickFailures { failuresPerStage[stage, default: 0] += 1 }
        var chance = 1.0
        for (stage, failures) in failuresPerStage {
            var succeeded = 0, failed = 0
            for (other, outcomes) in stageOutcomes[stage] ?? [:] where other != worker {
                guard let slot = workerIndex[other], !workers[slot].drained else { continue }
                succeeded += outcomes.succeeded
                failed += outcomes.failed
            }
            guard succeeded >= health.successesElsewhere else { continue }
            let likelihood = Double(failed + 1) / Double(succeeded + failed + 2)
            for _ in 0..<failures { chance *= likelihood }
        }
        let reported = stageOutcomes.values.reduce(0) { sum, perWorker in
            perWorker.values.reduce(sum) { $0 + $1.succeeded + $1.failed }
        }
        return chance * Double(max(1, reported)) < health.falseDrainOdds
    }

    /// Why a worker is drained, for the progress line, the journal and the summary.
    private func drainReason(_ index: Int) -> String {
        "its last \(workers[index].quickFailures.count) attempts failed within \(Int(health.quickFailureSeconds)) s each: "
            + "too many in a row for bad luck, given how often those stages fail on the other workers"
    }

    /// Suspects held longer than `quickFailureSeconds` work again (the
    /// reports that would settle them may be hours away); true if any did.
    mutating func releaseLongSuspicions(now: Double) -> Bool {
        lastTimeReading = now
        guard workers.suspectCount > 0 else { return false }
        var released = false
        for index in workers.indices where workers[index].suspect && now - workers[index].suspectSince > health.quickFailureSeconds {
            workers[index].suspect = false
            released = true
        }
        return released
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
        guard runningCount == 0, workers.suspectCount > 0 else { return false }
        for index in workers.indices { workers[index].suspect = false }
        return true
    }

    private mutating func drain(_ index: Int, reason: String, into actions: inout [SchedulerAction]) {
        workers[index].suspect = false
        workers[index].drained = true
        actions.append(.drain(workers[index].id, reason: reason))
    }
}
