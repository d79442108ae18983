/// The scheduler as a pure state machine: events in, actions out. No MPI,
/// no processes, no clock; the rank-0 loop carries the actions out, and
/// tests drive it with fake workers.
///
/// An instance becomes ready the moment its last dependency succeeds (per
/// instance, never per stage). Ready instances start on a worker that has
/// room, carries the stage's label and can take the stage's locks, best
/// ranked first (see `SchedulingPolicy`).
public struct Scheduler: Sendable {
    /// Grows as generators list items (`list(_:by:)`, in SchedulerItems.swift).
    public internal(set) var graph: InstanceGraph
    /// Which instances this run may start; items listed later are checked against it too.
    let selection: Selection
    /// Generators watching for data, and when each looks again (SchedulerWatch.swift).
    var watches: WatchTable
    /// Items dropped while they ran: their end counts for nothing.
    var droppedWhileRunning: Set<InstanceID> = []
    var states: [InstanceState]
    /// Dependencies not yet succeeded, per instance.
    var unmet: [Int32]
    /// Ready instances, one FIFO per stage (a stage has one demand, label and lock set).
    var readyQueues: [ReadyQueue]
    var readyCount = 0
    var runningCount = 0
    var finalCount = 0
    var workers = WorkerSlots()
    var workerIndex: [WorkerID: Int] = [:]
    var runningOn: WorkerByInstance
    /// Follow-ons (see `followOnsBelow`): the instance queued behind each
    /// running instance that has one, and the reverse.
    var followOn: [InstanceID: InstanceID] = [:]
    var queuedBehind: [InstanceID: InstanceID] = [:]
    /// When each follow-on was queued (`clockReading` then), and those recalled.
    var queuedSince: [InstanceID: Double] = [:]
    var recalled: Set<InstanceID> = []
    /// The last time the loop told (`recallStuckFollowOns`).
    var clockReading = 0.0
    /// The last wall clock `timePassed` was given: when a suspect was held.
    var lastTimeReading = 0.0
    /// Attempts of stages whose typical attempt in this run took less than
    /// this many seconds get a follow-on when ready work would otherwise
    /// wait for their worker's report; 0 for none.
    public let followOnsBelow: Double
    /// Per stage: an average of its successful attempts' wall seconds in this run (nil before one).
    var typicalSeconds: [Double?]
    /// Workers whose room changed since the last dispatch: the only ones
    /// that can take a new follow-on (see `queueFollowOns`).
    var touchedWorkers: [Int] = []
    /// Successes whose room was freed before their record reached the disk
    /// (`successBeingRecorded`), and the worker each ran on.
    var freedBeforeRecord: [InstanceID: WorkerID] = [:]
    var locks = LockTable()
    /// Multi-node instances' workers and the workers held for the next (SchedulerGangs.swift).
    var gangs = GangTable()
    /// Whether any stage spans workers (else no dispatch round looks for gangs).
    let usesMultiNodeStages: Bool
    /// Positions (in its worker's `devices`) of the GPUs each running instance holds.
    var heldDevices: [InstanceID: [Int]] = [:]
    /// Stage indices, best first (critical-path policy).
    let stageOrder: [Int]
    /// Whether any stage holds a lock alone (else no dispatch round reserves one).
    let usesExclusiveLocks: Bool
    /// Per stage: its weight (typical seconds) and its critical-path length (see `SchedulingPolicy`).
    let stageWeights: [Double]
    let chainLengths: [Double]
    let policy: SchedulingPolicy
    /// Ready-order counter, for first-come-first-served.
    var sequence: UInt64 = 0
    var stopping = false
    var finished = false
    /// Every worker of the run has joined: with nothing running, ready work
    /// that none of them starts never will.
    var allJoined = false
    /// Stages whose ready instances no worker could start when the run
    /// ended: the run finished without them (see `allWorkersJoined`).
    public internal(set) var stuck: [UnplaceableStage] = []
    /// Stages not started for now (too little walltime left for them).
    var held: Set<Int> = []
    /// When the allocation ends and what each stage typically takes; nil outside one.
    let walltime: Walltime?
    /// Held stages already announced (`holdStarted`).
    var announcedHolds: Set<Int> = []
    public internal(set) var tallies: [StageTally]
    /// The failed instance each skipped instance waited for.
    public internal(set) var skipCauses: [InstanceID: InstanceID] = [:]
    /// Attempts started so far, for instances started more than once.
    var extraAttempts: [InstanceID: Int] = [:]
    /// Attempts lost with their worker: they do not use up retries.
    var lostAttempts: [InstanceID: Int] = [:]
    /// Workers that left a run going on, each on a signal of its own (its
    /// node going down). When every worker is told to stop, the run itself
    /// stops instead (the coordinator's stop protocol), and no worker is
    /// counted here.
    public internal(set) var leaving: Set<WorkerID> = []

    /// Instances waiting for another attempt, per stage: started before the
    /// stage's other ready instances, and away from workers they failed on.
    var retryQueues: [[InstanceID]]
    /// Workers each instance failed on in this run.
    var failedOn: [InstanceID: Set<WorkerID>] = [:]
    /// Per stage and worker: successes and failures in this run (see `WorkerHealth`).
    var stageOutcomes: [Int: [WorkerID: (succeeded: Int, failed: Int)]] = [:]
    let health: WorkerHealth

    /// `doneEarlier` tells which instances an earlier run completed (see
    /// `ResumePlan`); they count as succeeded and never start. Instances
    /// outside `selection` never start either, and what waits for them
    /// waits for good (the run ends without it).
    public init(
        graph: InstanceGraph, doneEarlier: (InstanceID) -> Bool = { _ in false },
        selection: Selection = .everything, policy: SchedulingPolicy = .criticalPath(), health: WorkerHealth = WorkerHealth(),
        walltime: Walltime? = nil, followOnsBelow: Double = 0, endWatchesWhenIdle: Bool = false,
        stillWatching: (InstanceID) -> Bool = { _ in true }
    ) {
        watches = WatchTable(endWhenIdle: endWatchesWhenIdle)
        self.graph = graph
        self.selection = selection
        usesExclusiveLocks = graph.job.stages.contains { $0.locks.contains { !$0.shared } }
        usesMultiNodeStages = graph.job.stages.contains { $0.nodes > 1 }
        self.followOnsBelow = followOnsBelow
        typicalSeconds = Array(repeating: nil, count: graph.job.stages.count)
        self.walltime = walltime
        self.health = health
        retryQueues = Array(repeating: [], count: graph.job.stages.count)
        self.policy = policy
        stageOrder = policy.stageOrder(of: graph.job)
        stageWeights = SchedulingPolicy.weights(of: graph.job, durations: policy.stageDurations)
        chainLengths = SchedulingPolicy.criticalPathLengths(of: graph.job, durations: policy.stageDurations)
        let count = graph.instanceCount
        states = Array(repeating: .waiting, count: count)
        runningOn = WorkerByInstance(count: count)
        unmet = Array(repeating: 0, count: count)
        readyQueues = Array(repeating: ReadyQueue(), count: graph.job.stages.count)
        tallies = Array(repeating: StageTally(), count: graph.job.stages.count)
        workers = WorkerSlots(roomFloor: WorkerSlots.roomFloor(of: graph.job.stages))
        for stage in graph.job.stages.indices {
            let instances = graph.instances(ofStage: stage)
            tallies[stage].total = instances.count
            tallies[stage].waiting = instances.count
            for index in instances {
                unmet[index] = Int32(clamping: graph.dependencyCount(of: InstanceID(index)))
            }
        }
        countListedItems()
        for index in 0..<count where graph.isLive(InstanceID(index)) && doneEarlier(InstanceID(index)) {
            setState(InstanceID(index), stage: graph.stage(of: InstanceID(index)), to: .doneEarlier)
            satisfyDependents(of: InstanceID(index), makingReady: false)
        }
        if !selection.isEverything {
            for index in 0..<count where states[index] == .waiting && !selection.contains(InstanceID(index), in: graph) {
                setState(InstanceID(index), stage: graph.stage(of: InstanceID(index)), to: .unselected)
            }
        }
        startWatches(stillWatching: stillWatching)
        for index in 0..<count where unmet[index] == 0 && states[index] == .waiting {
            makeReady(InstanceID(index), stage: graph.stage(of: InstanceID(index)))
        }
    }

    /// Which attempt of the instance is running or ran last (1 for the first).
    public func attempt(of instance: InstanceID) -> Int {
        // Most runs retry nothing: no hashing per start and end then.
        extraAttempts.isEmpty ? 1 : 1 + (extraAttempts[instance] ?? 0)
    }

    public func state(of instance: InstanceID) -> InstanceState { states[instance.index] }

    public var isFinished: Bool { finished }

    /// A worker is ready; it gets work at once if there is some (in a study
    /// with multi-node stages, once every worker has joined: single-node work
    /// would take the first workers before a multi-node instance could).
    public mutating func workerJoined(_ worker: WorkerID, capacity: Capacity) -> [SchedulerAction] {
        workerJoined(worker, profile: WorkerProfile(capacity: capacity))
    }

    public mutating func workerJoined(_ worker: WorkerID, profile: WorkerProfile) -> [SchedulerAction] {
        precondition(workerIndex[worker] == nil, "\(worker) joined twice")
        workerIndex[worker] = workers.count
        workers.append(WorkerSlot(id: worker, profile: profile, free: profile.capacity,
                                  deviceHolders: Array(repeating: nil, count: profile.devices.count)))
        // Joining a run with nothing left to do (all done earlier): it stops at once.
        if finished { return [.stopWorker(worker)] }
        var actions: [SchedulerAction] = []
        guard !usesMultiNodeStages || allJoined else { return actions }
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    /// No more workers will join. From now on a run with nothing running
    /// and ready work no worker can start ends, naming that work in `stuck`
    /// instead of waiting for ever.
    public mutating func allWorkersJoined() -> [SchedulerAction] {
        allJoined = true
        var actions: [SchedulerAction] = []
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    /// The instance ended on its worker; success unblocks its dependents,
    /// failure is retried while the stage's `retries` allow, then skips
    /// everything downstream of it.
    public mutating func instanceFinished(_ instance: InstanceID, succeeded: Bool) -> [SchedulerAction] {
        instanceFinished(instance, outcome: succeeded ? .succeeded : .exited(1))
    }

    /// These instances' modules succeeded and their records are being
    /// written (an fsync, which can take milliseconds on a cluster file
    /// system). The room of each whose success makes no waiting instance
    /// ready, alone or with the others, is free at once, so other work
    /// starts while the records are written; the successes themselves
    /// count, and unblock nothing, until `instanceFinished`. Room whose
    /// success does make instances ready waits for them: they may rank
    /// above what is ready now.
    public mutating func successesBeingRecorded(_ instances: [InstanceID]) -> [SchedulerAction] {
        guard !stopping else { return [] }
        // How many of each dependent's unmet dependencies this batch meets.
        var met: [Int: Int32] = [:]
        for instance in instances {
            precondition(states[instance.index] == .running, "instance \(instance.rawValue) succeeded but was not running")
            for range in graph.dependents(of: instance) {
                for index in range where states[index] == .waiting { met[index, default: 0] += 1 }
            }
        }
        var freed = false
        for instance in instances {
            guard let worker = runningOn[instance], queuedBehind[instance] == nil else { continue }
            let unblocks = graph.dependents(of: instance).contains { range in range.contains { met[$0] == unmet[$0] } }
            guard !unblocks else { continue }
            freeRoom(of: instance, stage: graph.stage(of: instance))
            freedBeforeRecord[instance] = worker
            freed = true
        }
        var actions: [SchedulerAction] = []
        if freed { dispatch(into: &actions) }
        return actions
    }

    /// `wallSeconds`: how long the attempt ran; failures that come quickly,
    /// one after another on one worker, drain it (see `WorkerHealth`).
    public mutating func instanceFinished(_ instance: InstanceID, outcome reported: AttemptOutcome, wallSeconds: Double = 0) -> [SchedulerAction] {
        precondition(states[instance.index] == .running, "instance \(instance.rawValue) finished but was not running")
        if !droppedWhileRunning.isEmpty, droppedWhileRunning.remove(instance) != nil { return itemEnded(dropped: instance) }
        let outcome = settled(reported, of: instance)
        // A follow-on given back by its worker before it started: it made
        // no folder and ran nothing, so its attempt number is used again.
        let neverStarted = queuedBehind[instance] != nil
        let stage = graph.stage(of: instance)
        var actions: [SchedulerAction] = []
        let worker = runningOn[instance] ?? freedBeforeRecord[instance]
        release(instance, stage: stage)
        if let worker { noteOutcome(outcome, stage: stage, wallSeconds: wallSeconds, on: worker, into: &actions) }
        switch outcome {
        case .succeeded:
            noteTypical(wallSeconds, stage: stage)
            if watches.isEmpty || watches.watches[instance] == nil {
                setState(instance, stage: stage, to: .succeeded)
                satisfyDependents(of: instance, makingReady: true)
            } else {
                watchedSucceeded(instance, stage: stage, into: &actions)
            }
        case .lost where !stopping:
            // Its retries stay; its attempt number goes on if it started (its folder is used).
            if !neverStarted {
                extraAttempts[instance, default: 0] += 1
                lostAttempts[instance, default: 0] += 1
            }
            if let worker { failedOn[instance, default: []].insert(worker) }
            setState(instance, stage: stage, to: .ready)
            retryQueues[stage].append(instance)
            readyCount += 1
        case .interrupted, .lost:
            setState(instance, stage: stage, to: .interrupted)
        case _ where !stopping && retriesUsed(by: instance) < graph.job.stages[stage].retries:
            extraAttempts[instance, default: 0] += 1
            if let worker { failedOn[instance, default: []].insert(worker) }
            setState(instance, stage: stage, to: .ready)
            retryQueues[stage].append(instance)
            readyCount += 1
            actions.append(.retry(instance, attempt: retriesUsed(by: instance) + 1))
        default:
            setState(instance, stage: stage, to: .failed)
            if watches.watches[instance] != nil { watchedFailed(instance, into: &actions) } else { skipDownstream(of: instance, into: &actions) }
        }
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    /// Stop starting instances; the run finishes once the running ones end.
    public mutating func stopRequested() -> [SchedulerAction] {
        stopping = true
        var actions: [SchedulerAction] = []
        finishIfDone(into: &actions)
        return actions
    }

    // MARK: - State changes

    mutating func setState(_ instance: InstanceID, stage: Int, to new: InstanceState) {
        let old = states[instance.index]
        states[instance.index] = new
        tallies[stage].move(from: old, to: new)
        // A dropped item is no longer part of the study: not in its stage's total.
        if new == .dropped { tallies[stage].total -= 1 }
        if old == .dropped { tallies[stage].total += 1 }
        if old.isFinal { finalCount -= 1 }
        if new.isFinal { finalCount += 1 }
    }

    mutating func makeReady(_ instance: InstanceID, stage: Int) {
        setState(instance, stage: stage, to: .ready)
        sequence += 1
        readyQueues[stage].push(instance, sequence: sequence)
        readyCount += 1
    }

    mutating func satisfyDependents(of instance: InstanceID, makingReady: Bool) {
        for range in graph.dependents(of: instance) {
            for index in range {
                unmet[index] -= 1
                if makingReady, unmet[index] == 0, states[index] == .waiting {
                    makeReady(InstanceID(index), stage: graph.stage(of: InstanceID(index)))
                }
            }
        }
    }

    mutating func release(_ instance: InstanceID, stage: Int) {
        runningCount -= 1
        if freedBeforeRecord.removeValue(forKey: instance) == nil { freeRoom(of: instance, stage: stage) }
    }

    /// Gives the instance's locks and its worker's room back; room that a
    /// follow-on was queued for passes to it (its worker started it).
    private mutating func freeRoom(of instance: InstanceID, stage: Int) {
        locks.release(graph.job.stages[stage].locks)
        if usesMultiNodeStages { releaseGang(of: instance, stage: stage) }
        guard let worker = runningOn.removeValue(forKey: instance), let index = workerIndex[worker] else { return }
        releaseDevices(of: instance, onWorker: index)
        workers[index].running -= 1
        if !recalled.isEmpty { recalled.remove(instance) }
        if let ahead = queuedBehind.isEmpty ? nil : queuedBehind.removeValue(forKey: instance) {
            queuedSince[instance] = nil
            // A follow-on its worker never started (stopping, recalled, behind a failure): it held no room.
            followOn[ahead] = nil
            return
        }
        workers[index].withoutFollowOn.removeAll { $0 == instance }
        if followOnsBelow > 0 { touchedWorkers.append(index) }
        var freed = graph.job.stages[stage].demand
        if let next = followOn.removeValue(forKey: instance) {
            queuedBehind[next] = nil
            queuedSince[next] = nil
            recalled.remove(next)
            freed = freed - graph.job.stages[graph.stage(of: next)].demand
            workers[index].withoutFollowOn.append(next)
        }
        workers[index].free = workers[index].free + freed
    }

    /// Skips everything waiting downstream of `start`, naming `cause` (the
    /// failed instance; `start` itself unless given).
    mutating func skipDownstream(of start: InstanceID, cause: InstanceID? = nil, into actions: inout [SchedulerAction]) {
        let failed = cause ?? start
        var frontier = [start]
        while let current = frontier.popLast() {
            for range in graph.dependents(of: current) {
                for index in range where states[index] == .waiting {
                    // Held for a watch: the failed item may yet vanish from its list.
                    if !watches.isEmpty, waitsForAWatch(index) { continue }
                    let id = InstanceID(index)
                    setState(id, stage: graph.stage(of: id), to: .skipped)
                    skipCauses[id] = failed
                    actions.append(.skip(id, because: failed))
                    frontier.append(id)
                }
            }
        }
    }
}
