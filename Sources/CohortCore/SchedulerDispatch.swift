extension Scheduler {
    /// Hands ready instances to workers with room, one per worker per round
    /// so that work spreads over workers. A stage whose label, capacity or
    /// locks rule it out here is passed over, never waited on: other ready
    /// work that fits goes first.
    mutating func dispatch(into actions: inout [SchedulerAction]) {
        guard !stopping else {
            touchedWorkers.removeAll()
            return
        }
        if usesMultiNodeStages { startGangs(into: &actions) }
        dispatchToHealthyWorkers(into: &actions)
        if readyCount > 0 && clearSuspectsIfIdle() {
            if usesMultiNodeStages { startGangs(into: &actions) }
            dispatchToHealthyWorkers(into: &actions)
        }
        if followOnsBelow > 0 { queueFollowOns(into: &actions) }
    }

    private mutating func dispatchToHealthyWorkers(into actions: inout [SchedulerAction]) {
        var progress = true
        while progress && readyCount > 0 {
            progress = false
            let reserved = reservedLocks()
            let bySubject: Bool = if case .subjectsFirst = policy { throughputBound } else { false }
            var from = 0
            while let index = workers.firstWithRoom(from: from) {
                from = index + 1
                guard !workers[index].drained && !workers[index].suspect && !workers[index].reserved,
                      let stage = bestStage(for: workers[index], reserved: reserved, bySubject: bySubject) else { continue }
                let instance = nextInstance(of: stage, for: workers[index])
                let definition = graph.job.stages[stage]
                countStarted(instance, stage: stage, onWorker: index)
                locks.acquire(definition.locks)
                workers[index].free = workers[index].free - definition.demand
                if definition.gpus > 0 { takeDevices(definition.gpus, for: instance, onWorker: index) }
                workers[index].withoutFollowOn.append(instance)
                if followOnsBelow > 0 { touchedWorkers.append(index) }
                actions.append(.start(instance, on: workers[index].id))
                progress = true
                if readyCount == 0 { break }
            }
        }
    }

    /// Counts a ready instance as running on worker `index` (its first
    /// worker, for a multi-node one); its room, devices and locks are taken
    /// by the caller, whose kind of start decides them.
    mutating func countStarted(_ instance: InstanceID, stage: Int, onWorker index: Int) {
        readyCount -= 1
        runningCount += 1
        setState(instance, stage: stage, to: .running)
        workers[index].running += 1
        runningOn[instance] = workers[index].id
    }

    /// The stage whose next ready instance this worker should run, if any.
    /// `unlockedOnly`: only stages that take no lock and no GPU (a follow-on's:
    /// its devices would have to be chosen before the room is free).
    func bestStage(for worker: WorkerSlot, reserved: Set<String>, bySubject: Bool, unlockedOnly: Bool = false) -> Int? {
        // The stage read in place, not copied (`let` would retain its every string and array: a hot path).
        func eligible(_ stage: Int) -> Bool {
            (!readyQueues[stage].isEmpty || retryFor(stage, on: worker) != nil)
                && !held.contains(stage)
                && graph.job.stages[stage].nodes == 1  // multi-node stages start as gangs (`startGangs`)
                && worker.profile.takes(graph.job.stages[stage])
                && worker.free.fits(graph.job.stages[stage].demand)
                && (unlockedOnly ? graph.job.stages[stage].locks.isEmpty && graph.job.stages[stage].gpus == 0
                                 : locks.canAcquire(graph.job.stages[stage].locks, reserved: reserved))
        }
        switch policy {
        case .criticalPath:
            return stageOrder.first(where: eligible)
        case .firstComeFirstServed:
            return stageOrder.filter(eligible).min { readyQueues[$0].headSequence < readyQueues[$1].headSequence }
        case .subjectsFirst:
            guard bySubject else { return stageOrder.first(where: eligible) }
            var best: (key: (Int, Int, Int), stage: Int)?
            for (rank, stage) in stageOrder.enumerated() where eligible(stage) {
                let next = retryFor(stage, on: worker).map { retryQueues[stage][$0] } ?? readyQueues[stage].first!
                let key = (-graph.job.stages[stage].priority, graph.coordinates(of: next).subject ?? -1, rank)
                if best == nil || key < best!.key { best = (key, stage) }
            }
            return best?.stage
        }
    }

    /// Whether the work not started yet (waiting or ready, in stages not
    /// held; retries included, skipped work not) would keep every cpu in
    /// service busy for more than twice the longest chain of stages that has
    /// ready work: then the order of subjects costs no time at the end.
    var throughputBound: Bool {
        let cpus = workers.cpusInService
        guard cpus > 0 else { return false }
        var unstarted = 0.0
        var longestChain = 0.0
        for stage in graph.job.stages.indices where !held.contains(stage) {
            let left = tallies[stage].waiting + tallies[stage].ready
            unstarted += Double(left) * stageWeights[stage] * Double(graph.job.stages[stage].cpus)
            if hasReady(stage) { longestChain = max(longestChain, chainLengths[stage]) }
        }
        return unstarted / Double(cpus) > 2 * longestChain
    }

    /// Whether `stage` has an instance ready (a first attempt or a retry).
    func hasReady(_ stage: Int) -> Bool {
        !readyQueues[stage].isEmpty || !retryQueues[stage].isEmpty
    }

    /// The instance of `stage` that `worker` should start: a retry first.
    mutating func nextInstance(of stage: Int, for worker: WorkerSlot) -> InstanceID {
        if let position = retryFor(stage, on: worker) { return retryQueues[stage].remove(at: position) }
        return readyQueues[stage].pop()
    }

    /// A retry of `stage` that `worker` may take: one that did not fail on
    /// it, or one that no other worker in service could run anyway.
    func retryFor(_ stage: Int, on worker: WorkerSlot) -> Int? {
        guard !retryQueues[stage].isEmpty else { return nil }
        let definition = graph.job.stages[stage]
        return retryQueues[stage].firstIndex { instance in
            guard let failed = failedOn[instance], failed.contains(worker.id) else { return true }
            return !workers.contains { other in
                !other.drained && !failed.contains(other.id) && other.profile.takes(definition)
                    && other.profile.capacity.fits(definition.demand)
            }
        }
    }

    /// Locks that waiting writers reserve: new readers wait behind a writer,
    /// so a stream of readers cannot starve it. Writers reserve in the
    /// dispatch order, and one that needs a lock an earlier writer reserved
    /// reserves nothing: two stages whose locks cross (`x` writes `a` and
    /// reads `b`, `y` writes `b` and reads `a`) are served one after the
    /// other instead of each waiting for the other for ever.
    private func reservedLocks() -> Set<String> {
        guard usesExclusiveLocks else { return [] }
        var reserved: Set<String> = []
        var waiting = stageOrder.filter { hasReady($0) && !held.contains($0) && someWorkerCanRun($0) }
        if case .firstComeFirstServed = policy {
            waiting.sort { readyQueues[$0].headSequence < readyQueues[$1].headSequence }
        }
        for stage in waiting {
            let stageLocks = graph.job.stages[stage].locks
            guard stageLocks.contains(where: { !$0.shared }),
                  !stageLocks.contains(where: { reserved.contains($0.name) }) else { continue }
            for lock in stageLocks where !lock.shared { reserved.insert(lock.name) }
        }
        return reserved
    }

    /// Whether the workers in the run could take an instance of `stage` when
    /// idle (a multi-node stage: workers on enough hosts).
    func someWorkerCanRun(_ stage: Int) -> Bool {
        let definition = graph.job.stages[stage]
        let fits = { (slot: WorkerSlot) in !slot.drained && slot.profile.takes(definition) && slot.profile.capacity.fits(definition.demand) }
        guard definition.nodes > 1 else { return workers.contains(where: fits) }
        return Set(workers.indices.filter { fits(workers[$0]) }.map(host(ofWorker:))).count >= definition.nodes
    }

    /// Stages no worker can ever run, checked before a run starts (it would hang).
    public static func unplaceableStages(of job: Job, on workers: [WorkerProfile]) -> [UnplaceableStage] {
        job.stages.compactMap { stage in
            let candidates = workers.filter { $0.takes(stage) }
            if stage.nodes > 1 {
                let fitting = candidates.enumerated().filter { $0.element.capacity.fits(stage.demand) }
                let hosts = Set(fitting.map { $0.element.host.isEmpty ? "#\($0.offset)" : $0.element.host })
                if hosts.count >= stage.nodes { return nil }
                // Some host fits but too few: say so (none fits at all: said below as for any stage).
                if !fitting.isEmpty {
                    var problem = UnplaceableStage(stage: stage.name, needs: stage.demand, largest: stage.demand, label: stage.on)
                    problem.nodes = (needed: stage.nodes, hosts: hosts.count)
                    return problem
                }
            } else if candidates.contains(where: { $0.capacity.fits(stage.demand) }) {
                return nil
            }
            let capacities = candidates.map(\.capacity)
            let largest = Capacity(cpus: capacities.map(\.cpus).max() ?? 0, memory: capacities.map(\.memory).max() ?? 0,
                                   gpus: capacities.map(\.gpus).max() ?? 0)
            return UnplaceableStage(stage: stage.name, needs: stage.demand, largest: largest, label: stage.on,
                                    labelMissing: candidates.isEmpty)
        }
    }

    public static func unplaceableStages(of job: Job, on capacities: [Capacity]) -> [UnplaceableStage] {
        unplaceableStages(of: job, on: capacities.map { WorkerProfile(capacity: $0) })
    }
}

/// Who holds which lock: writers alone, readers together (DESIGN §7).
struct LockTable: Sendable {
    private var writers: [String: Int] = [:]
    private var readers: [String: Int] = [:]

    /// Readers also wait for a lock a writer has `reserved`.
    func canAcquire(_ locks: [StageLock], reserved: Set<String>) -> Bool {
        locks.allSatisfy { lock in
            if lock.shared { return writers[lock.name, default: 0] == 0 && !reserved.contains(lock.name) }
            return writers[lock.name, default: 0] == 0 && readers[lock.name, default: 0] == 0
        }
    }

    mutating func acquire(_ locks: [StageLock]) {
        for lock in locks {
            if lock.shared { readers[lock.name, default: 0] += 1 } else { writers[lock.name, default: 0] += 1 }
        }
    }

    mutating func release(_ locks: [StageLock]) {
        for lock in locks {
            if lock.shared { readers[lock.name, default: 0] -= 1 } else { writers[lock.name, default: 0] -= 1 }
        }
    }
}

/// A FIFO of ready instances that does not shift elements on pop.
struct ReadyQueue: Sendable {
    private var items: [(instance: InstanceID, sequence: UInt64)] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    /// When the oldest waiting instance became ready (max when empty).
    var headSequence: UInt64 { isEmpty ? .max : items[head].sequence }

    /// The instance `pop` would return.
    var first: InstanceID? { isEmpty ? nil : items[head].instance }

    mutating func push(_ instance: InstanceID, sequence: UInt64) { items.append((instance, sequence)) }

    mutating func pop() -> InstanceID {
        let item = items[head].instance
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    /// Takes `instance` out of line (an item dropped while ready): rare, so linear.
    /// Whether it was in line.
    mutating func remove(_ instance: InstanceID) -> Bool {
        guard let index = items[head...].firstIndex(where: { $0.instance == instance }) else { return false }
        items.remove(at: index)
        return true
    }
}
