/// The scheduler as a pure state machine: events in, actions out. No MPI,
/// no processes, no clock; the rank-0 loop carries the actions out, and
/// tests drive it with fake workers.
///
/// An instance becomes ready the moment its last dependency succeeds (per
/// instance, never per stage), and starts on a worker with room for it.
public struct Scheduler: Sendable {
    public let graph: InstanceGraph
    private var states: [InstanceState]
    /// Dependencies not yet succeeded, per instance.
    private var unmet: [Int32]
    /// Ready instances, one FIFO per stage (one demand per stage).
    private var readyQueues: [ReadyQueue]
    private var readyCount = 0
    private var runningCount = 0
    private var finalCount = 0
    private var workers: [WorkerSlot] = []
    private var workerIndex: [WorkerID: Int] = [:]
    private var stopping = false
    private var finished = false
    public private(set) var tallies: [StageTally]
    /// The failed instance each skipped instance waited for.
    public private(set) var skipCauses: [InstanceID: InstanceID] = [:]
    /// Attempts started so far, for instances started more than once.
    private var extraAttempts: [InstanceID: Int] = [:]

    private struct WorkerSlot {
        var id: WorkerID
        var capacity: Capacity
        var free: Capacity
        var running = 0
    }

    /// `doneEarlier` tells which instances an earlier run completed (see
    /// `ResumePlan`); they count as succeeded and never start.
    public init(graph: InstanceGraph, doneEarlier: (InstanceID) -> Bool = { _ in false }) {
        self.graph = graph
        let count = graph.instanceCount
        states = Array(repeating: .waiting, count: count)
        unmet = Array(repeating: 0, count: count)
        readyQueues = Array(repeating: ReadyQueue(), count: graph.job.stages.count)
        tallies = Array(repeating: StageTally(), count: graph.job.stages.count)
        for stage in graph.job.stages.indices {
            let instances = graph.instances(ofStage: stage)
            tallies[stage].total = instances.count
            tallies[stage].waiting = instances.count
            for index in instances {
                unmet[index] = Int32(clamping: graph.dependencyCount(of: InstanceID(index)))
            }
        }
        for index in 0..<count where doneEarlier(InstanceID(index)) {
            setState(InstanceID(index), stage: graph.stage(of: InstanceID(index)), to: .doneEarlier)
            satisfyDependents(of: InstanceID(index), makingReady: false)
        }
        for index in 0..<count where unmet[index] == 0 && states[index] == .waiting {
            makeReady(InstanceID(index), stage: graph.stage(of: InstanceID(index)))
        }
    }

    /// Which attempt of the instance is running or ran last (1 for the first).
    public func attempt(of instance: InstanceID) -> Int { 1 + (extraAttempts[instance] ?? 0) }

    /// Stages whose instances fit no worker of `capacities` (checked before a run starts).
    public static func unplaceableStages(of job: Job, on capacities: [Capacity]) -> [UnplaceableStage] {
        job.stages.compactMap { stage in
            if capacities.contains(where: { $0.fits(stage.demand) }) { return nil }
            let largest = Capacity(cpus: capacities.map(\.cpus).max() ?? 0, memory: capacities.map(\.memory).max() ?? 0)
            return UnplaceableStage(stage: stage.name, needs: stage.demand, largest: largest)
        }
    }

    public func state(of instance: InstanceID) -> InstanceState { states[instance.index] }

    public var isFinished: Bool { finished }

    /// A worker is ready with `capacity`; it gets work at once if there is some.
    public mutating func workerJoined(_ worker: WorkerID, capacity: Capacity) -> [SchedulerAction] {
        precondition(workerIndex[worker] == nil, "\(worker) joined twice")
        workerIndex[worker] = workers.count
        workers.append(WorkerSlot(id: worker, capacity: capacity, free: capacity))
        var actions: [SchedulerAction] = []
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    /// The instance ended on its worker; success unblocks its dependents,
    /// failure is retried while the stage's `retries` allow, then skips
    /// everything downstream of it.
    public mutating func instanceFinished(_ instance: InstanceID, succeeded: Bool) -> [SchedulerAction] {
        instanceFinished(instance, result: succeeded ? .succeeded : .failed)
    }

    public mutating func instanceFinished(_ instance: InstanceID, result: AttemptResult) -> [SchedulerAction] {
        precondition(states[instance.index] == .running, "instance \(instance.rawValue) finished but was not running")
        let stage = graph.stage(of: instance)
        var actions: [SchedulerAction] = []
        release(instance, stage: stage)
        switch result {
        case .succeeded:
            setState(instance, stage: stage, to: .succeeded)
            satisfyDependents(of: instance, makingReady: true)
        case .failed where !stopping && attempt(of: instance) <= graph.job.stages[stage].retries:
            extraAttempts[instance, default: 0] += 1
            makeReady(instance, stage: stage)
            actions.append(.retry(instance, attempt: attempt(of: instance)))
        case .failed:
            setState(instance, stage: stage, to: .failed)
            skipDownstream(of: instance, into: &actions)
        case .interrupted:
            setState(instance, stage: stage, to: .interrupted)
        }
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    private mutating func satisfyDependents(of instance: InstanceID, makingReady: Bool) {
        for range in graph.dependents(of: instance) {
            for index in range {
                unmet[index] -= 1
                if makingReady, unmet[index] == 0, states[index] == .waiting {
                    makeReady(InstanceID(index), stage: graph.stage(of: InstanceID(index)))
                }
            }
        }
    }

    /// Stop starting instances; the run finishes once the running ones end.
    public mutating func stopRequested() -> [SchedulerAction] {
        stopping = true
        var actions: [SchedulerAction] = []
        finishIfDone(into: &actions)
        return actions
    }

    // MARK: - Internals

    private mutating func setState(_ instance: InstanceID, stage: Int, to new: InstanceState) {
        let old = states[instance.index]
        states[instance.index] = new
        tallies[stage].move(from: old, to: new)
        if new.isFinal { finalCount += 1 }
    }

    private mutating func makeReady(_ instance: InstanceID, stage: Int) {
        if states[instance.index] != .ready { setState(instance, stage: stage, to: .ready) }
        readyQueues[stage].push(instance)
        readyCount += 1
    }

    private mutating func release(_ instance: InstanceID, stage: Int) {
        runningCount -= 1
        guard let slot = runningOn.removeValue(forKey: instance), let index = workerIndex[slot] else { return }
        workers[index].free = workers[index].free + graph.job.stages[stage].demand
        workers[index].running -= 1
    }

    private var runningOn: [InstanceID: WorkerID] = [:]

    /// Hands ready instances to workers with room, one per worker per round
    /// so that work spreads over workers.
    private mutating func dispatch(into actions: inout [SchedulerAction]) {
        guard !stopping else { return }
        var progress = true
        while progress && readyCount > 0 {
            progress = false
            for index in workers.indices where workers[index].free.cpus > 0 {
                guard let stage = firstFittingStage(for: workers[index].free) else { continue }
                let instance = readyQueues[stage].pop()
                readyCount -= 1
                runningCount += 1
                setState(instance, stage: stage, to: .running)
                workers[index].free = workers[index].free - graph.job.stages[stage].demand
                workers[index].running += 1
                runningOn[instance] = workers[index].id
                actions.append(.start(instance, on: workers[index].id))
                progress = true
                if readyCount == 0 { break }
            }
        }
    }

    private func firstFittingStage(for free: Capacity) -> Int? {
        readyQueues.indices.first { !readyQueues[$0].isEmpty && free.fits(graph.job.stages[$0].demand) }
    }

    private mutating func skipDownstream(of failed: InstanceID, into actions: inout [SchedulerAction]) {
        var frontier = [failed]
        while let current = frontier.popLast() {
            for range in graph.dependents(of: current) {
                for index in range where states[index] == .waiting {
                    let id = InstanceID(index)
                    setState(id, stage: graph.stage(of: id), to: .skipped)
                    skipCauses[id] = failed
                    actions.append(.skip(id, because: failed))
                    frontier.append(id)
                }
            }
        }
    }

    private mutating func finishIfDone(into actions: inout [SchedulerAction]) {
        guard !finished, runningCount == 0 else { return }
        guard stopping || finalCount == states.count else {
            // Everything left waits on work no worker can take (or no worker yet).
            return
        }
        finished = true
        for worker in workers { actions.append(.stopWorker(worker.id)) }
        actions.append(.finish)
    }
}

/// A FIFO of instances that does not shift elements on pop.
struct ReadyQueue: Sendable {
    private var items: [InstanceID] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func push(_ instance: InstanceID) { items.append(instance) }

    mutating func pop() -> InstanceID {
        let item = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}
