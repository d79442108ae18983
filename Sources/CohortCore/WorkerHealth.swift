/// When a worker is taken for broken and drained (DESIGN §7, issue 9): a
/// node where everything fails at once (a stale mount, a missing tool)
/// frees its slot instantly and would take the next instance, retries
/// included, until most of the study failed there. A worker whose last
/// `quickFailuresToDrain` attempts all failed within `quickFailureSeconds`,
/// while another worker in service succeeds, gets no more work; the run
/// goes on with the rest. The last healthy worker is never drained.
///
/// A node that fails in milliseconds gets there before any other worker has
/// finished anything: it is then held as suspect (no new work) until
/// another worker reports. A success elsewhere drains it; a failure
/// elsewhere clears it (the module fails everywhere, not the node), and so
/// does a run with nothing left running (nothing more could be learnt).
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
    mutating func noteOutcome(_ result: AttemptResult, wallSeconds: Double, on worker: WorkerID,
                              into actions: inout [SchedulerAction]) {
        guard let index = workerIndex[worker] else { return }
        switch result {
        case .succeeded:
            workers[index].quickFailures = 0
            workers[index].lastSucceeded = true
            workers[index].suspect = false
            for other in workers.indices where workers[other].suspect && !workers[other].drained {
                drain(other, reason: "its last \(workers[other].quickFailures) attempts failed within \(Int(health.quickFailureSeconds)) s each while \(worker) succeeds", into: &actions)
            }
        case .failed:
            workers[index].lastSucceeded = false
            workers[index].quickFailures = wallSeconds < health.quickFailureSeconds ? workers[index].quickFailures + 1 : 0
            if !workers[index].suspect {
                // A failure here too: the suspects' failures were not their nodes' fault.
                for other in workers.indices where workers[other].suspect { workers[other].suspect = false }
            }
            guard !workers[index].drained, workers[index].quickFailures >= health.quickFailuresToDrain else { break }
            let inService = workers.indices.filter { $0 != index && !workers[$0].drained }
            if inService.contains(where: { workers[$0].lastSucceeded }) {
                drain(index, reason: "its last \(workers[index].quickFailures) attempts failed within \(Int(health.quickFailureSeconds)) s each while other workers succeed", into: &actions)
            } else if !inService.isEmpty {
                workers[index].suspect = true
            }
        case .interrupted, .lost:
            break
        }
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
