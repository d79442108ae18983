/// Stages that span workers (`nodes: N`, DESIGN §7): an instance takes N
/// workers on distinct hosts at once, each with the stage's cpus, memory
/// and GPUs, and runs its module once, on the first (an MPI program given
/// the others in a hostfile); the others hold their room until it ends.
///
/// Such an instance rarely finds N workers free at once while smaller work
/// keeps them busy. So the best-ranked one that cannot start reserves N
/// workers on distinct hosts (Slurm's reservation for the job at the head
/// of its queue): they take no new work, and it starts the moment they are
/// free. Other workers go on with smaller work meanwhile.
struct GangTable: Sendable {
    /// Per running multi-node instance: the indices of its workers, first
    /// (where its module runs) first.
    var members: [InstanceID: [Int]] = [:]
    /// The workers held for the multi-node stage first in line, if any.
    var reservation: (stage: Int, workers: [Int])?
    /// Per running multi-node instance of a stage with `gpus`: the devices
    /// (positions) it holds on each of its workers after the first (the
    /// first's are `Scheduler.heldDevices`).
    var devices: [InstanceID: [(worker: Int, positions: [Int])]] = [:]
}

extension Scheduler {
    /// The workers of a running instance, first (where its module runs)
    /// first: one for a single-node stage.
    public func gang(of instance: InstanceID) -> [WorkerID] {
        if let members = gangs.members[instance] { return members.map { workers[$0].id } }
        return runningOn[instance].map { [$0] } ?? []
    }

    /// The GPU devices a running instance holds on each of its workers, in
    /// the order of `gang(of:)`.
    public func devicesByWorker(of instance: InstanceID) -> [[String]] {
        var result = [devices(of: instance)]
        for (index, positions) in gangs.devices[instance] ?? [] { result.append(positions.map { workers[index].profile.devices[$0] }) }
        return result
    }

    /// The host a worker stands for: its profile's, else its own.
    func host(ofWorker index: Int) -> String {
        workers[index].profile.host.isEmpty ? "worker \(workers[index].id.rawValue)" : workers[index].profile.host
    }

    /// Starts the multi-node instances that can start now, best stage first.
    /// The best-ranked one that cannot start holds the reservation (taken
    /// from a lower-ranked stage if need be); the stages after it still
    /// start on workers it does not hold.
    /// None starts before every worker has joined: the first hosts to join
    /// would take them all while the others sat idle.
    mutating func startGangs(into actions: inout [SchedulerAction]) {
        guard usesMultiNodeStages, allJoined else { return }
        if let reservation = gangs.reservation, !stands(reservation) { cancelReservation() }
        var reservedThisRound = false
        for stage in stageOrder where graph.job.stages[stage].nodes > 1 {
            while hasReady(stage) && !held.contains(stage) {
                let definition = graph.job.stages[stage]
                // Held back by a lock, not by room: workers reserved would only sit idle.
                guard locks.canAcquire(definition.locks, reserved: []) else { break }
                guard let free = gangMembers(for: stage, freeNow: true) else {
                    if !reservedThisRound {
                        let held = gangs.reservation?.stage == stage
                        reservedThisRound = reserveWorkers(for: stage)
                        // Workers taken from another stage's reservation may be free now: try again.
                        if reservedThisRound && !held { continue }
                    }
                    break
                }
                if gangs.reservation?.stage == stage {
                    // Its reservation served: its next instance may reserve again this round.
                    cancelReservation()
                    reservedThisRound = false
                }
                let (instance, members) = nextGangInstance(of: stage, on: free)
                countStarted(instance, stage: stage, onWorker: members[0])
                locks.acquire(definition.locks)
                for (place, index) in members.enumerated() {
                    workers[index].free = workers[index].free - definition.demand
                    if place > 0 { workers[index].running += 1 }
                    guard definition.gpus > 0 else { continue }
                    if place == 0 {
                        takeDevices(definition.gpus, for: instance, onWorker: index)
                    } else {
                        gangs.devices[instance, default: []].append((index, claimDevices(definition.gpus, by: instance, onWorker: index)))
                    }
                }
                gangs.members[instance] = members
                actions.append(.start(instance, on: workers[members[0]].id))
            }
        }
    }

    /// Whether a reservation still serves: its stage has a ready instance,
    /// is not held, and every worker it holds is still in service.
    private func stands(_ reservation: (stage: Int, workers: [Int])) -> Bool {
        hasReady(reservation.stage) && !held.contains(reservation.stage)
            && reservation.workers.allSatisfy { !workers[$0].drained && !workers[$0].suspect }
    }

    /// Reserves workers for `stage`, which cannot start now (moving the
    /// reservation from another stage); false if no N hosts could ever serve it.
    private mutating func reserveWorkers(for stage: Int) -> Bool {
        if gangs.reservation?.stage == stage { return true }
        guard let chosen = gangMembers(for: stage, freeNow: false) else { return false }
        cancelReservation()
        gangs.reservation = (stage, chosen)
        for index in chosen { workers[index].reserved = true }
        return true
    }

    /// The reserved workers go back to work.
    private mutating func cancelReservation() {
        for index in gangs.reservation?.workers ?? [] { workers[index].reserved = false }
        gangs.reservation = nil
    }

    /// The instance of a multi-node stage to start on `members`: a retry
    /// first, its module then on a member it has not failed on if one has not.
    private mutating func nextGangInstance(of stage: Int, on members: [Int]) -> (InstanceID, [Int]) {
        guard !retryQueues[stage].isEmpty else { return (readyQueues[stage].pop(), members) }
        let instance = retryQueues[stage].removeFirst()
        var order = members
        if let failed = failedOn[instance], let fresh = order.firstIndex(where: { !failed.contains(workers[$0].id) }) {
            order.swapAt(0, fresh)
        }
        return (instance, order)
    }

    /// N workers on distinct hosts that take `stage` and fit its demand:
    /// with that room free now (`freeNow`), else in all (to reserve, those
    /// with the most free room first). Nil if there are not N such hosts.
    private func gangMembers(for stage: Int, freeNow: Bool) -> [Int]? {
        let definition = graph.job.stages[stage]
        var chosen: [Int] = []
        var hosts: Set<String> = []
        let candidates = workers.indices.filter { index in
            let worker = workers[index]
            guard !worker.drained, !worker.suspect, worker.profile.takes(definition),
                  worker.profile.capacity.fits(definition.demand) else { return false }
            if freeNow { return worker.free.fits(definition.demand) && (!worker.reserved || gangs.reservation?.stage == stage) }
            return true
        }.sorted { workers[$0].free.cpus > workers[$1].free.cpus }
        for index in candidates where hosts.insert(host(ofWorker: index)).inserted {
            chosen.append(index)
            if chosen.count == definition.nodes { return chosen }
        }
        return nil
    }

    /// The other workers of a multi-node instance that ended get their room back.
    mutating func releaseGang(of instance: InstanceID, stage: Int) {
        guard let members = gangs.members.removeValue(forKey: instance) else { return }
        for (index, positions) in gangs.devices.removeValue(forKey: instance) ?? [] { unclaimDevices(positions, onWorker: index) }
        let demand = graph.job.stages[stage].demand
        for index in members.dropFirst() {
            workers[index].free = workers[index].free + demand
            workers[index].running -= 1
            if followOnsBelow > 0 { touchedWorkers.append(index) }
        }
    }
}
