import CohortCore

/// Starts bound for worker ranks in one `perform`: one message per rank,
/// sent before any later message to that rank (a recall, a stop).
struct OutgoingStarts {
    private var byWorker: [WorkerID: [TaskAssignment]] = [:]
    /// Ranks in the order their first start was added.
    private var order: [WorkerID] = []

    mutating func add(_ assignment: TaskAssignment, to worker: WorkerID) {
        if byWorker[worker] == nil { order.append(worker) }
        byWorker[worker, default: []].append(assignment)
    }

    mutating func send(to worker: WorkerID, over transport: (any SchedulerTransport)?) throws {
        guard let assignments = byWorker.removeValue(forKey: worker) else { return }
        order.removeAll { $0 == worker }
        try transport?.send(.run(assignments), to: worker.rawValue)
    }

    mutating func sendAll(over transport: (any SchedulerTransport)?) throws {
        for worker in order {
            if let assignments = byWorker[worker] { try transport?.send(.run(assignments), to: worker.rawValue) }
        }
        byWorker = [:]
        order = []
    }
}
