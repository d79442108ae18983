/// Generators that watch for data (DESIGN §8, Scipion's streaming): a
/// stage with `watch:` runs again at that interval while the run goes on
/// (a *look*), and the items each look newly lists join the run at once.
///
/// Its first success makes its items ready, as any generator's does. What
/// else waits for it (a session's picking) waits for the end of the watch
/// too: its last look, the first to start once the `until` file exists
/// (the coordinator checks the file, `untilFileExists(for:)`), or, with
/// `--no-watch`, the look taken the moment nothing else is left to do.
/// Items already run never run again because the list grew.
struct WatchTable: Sendable {
    struct Watch: Sendable {
        var interval: Double
        /// When the next look is due; nil before the first run ends and
        /// while a look is ready or running.
        var nextLook: Double?
        /// The look starting or running now is the last.
        var lastLook = false
        /// Its items no longer wait for it: its first success counted, or the
        /// journal listed them (a resumed watch).
        var listed = false
        /// It succeeded in this run: a run of it now is a look.
        var succeededHere = false
        /// Looks started so far (attempts that are not retries).
        var looksTaken = 0
        /// Retries spent before the current look: each look has the stage's
        /// retries anew (see `Scheduler.retriesUsed(by:)`).
        var retriesBeforeLook = 0
    }

    var watches: [InstanceID: Watch] = [:]
    /// `--no-watch`: the watches end when nothing else is left to do.
    let endWhenIdle: Bool
    /// The loop's clock, as last told (`timePassed(now:)`).
    var now = 0.0
    /// The earliest `nextLook` (infinity for none), so most ticks cost nothing.
    var earliestLook = Double.infinity

    var isEmpty: Bool { watches.isEmpty }

    /// Watches waiting for their next look's time.
    var waitingForLooks: Bool { earliestLook < .infinity }

    mutating func recomputeEarliest() {
        earliestLook = watches.values.lazy.compactMap(\.nextLook).min() ?? .infinity
    }
}

extension Scheduler {
    /// Watched generator instances this run will start: what depends on
    /// them, tree instances only, waits for their watch's end as well. A
    /// watch resumed from the journal (`stillWatching`: its last run left the
    /// watch going, not changed or forced since; or left out by `--only`)
    /// has its items listed already: they wait for no look.
    mutating func startWatches(stillWatching: (InstanceID) -> Bool) {
        for (stage, definition) in graph.job.stages.enumerated() {
            guard let interval = definition.watch else { continue }
            for index in graph.instances(ofStage: stage) where states[index] == .waiting || states[index] == .unselected {
                let instance = InstanceID(index)
                guard stillWatching(instance) else {
                    // Changed or forced: its items wait for its new list, as any generator's do.
                    if states[index] == .waiting {
                        watches.watches[instance] = WatchTable.Watch(interval: interval)
                        for dependent in heldByWatch(instance) { unmet[dependent] += 1 }
                    }
                    continue
                }
                let items = graph.dependents(of: instance).flatMap { range in range.filter { $0 >= graph.treeInstanceCount } }
                for item in items { unmet[item] -= 1 }
                guard states[index] == .waiting else { continue }
                watches.watches[instance] = WatchTable.Watch(interval: interval, listed: !items.isEmpty)
                for dependent in heldByWatch(instance) { unmet[dependent] += 1 }
            }
        }
    }

    /// The instances waiting for the end of `generator`'s watch: its
    /// dependents in the study tree (its items need only its first success).
    func heldByWatch(_ generator: InstanceID) -> [Int] {
        graph.dependents(of: generator).flatMap { range in range.filter { $0 < graph.treeInstanceCount } }
    }

    /// Whether `instance` is a watched generator that succeeded in this run:
    /// a run of it now is a look, whose end is not one more instance done.
    public func isLook(_ instance: InstanceID) -> Bool {
        watches.watches[instance]?.succeededHere ?? false
    }

    /// Whether a watched generator's items no longer wait for it (see `Watch.listed`).
    func itemsListed(by instance: InstanceID) -> Bool {
        watches.watches[instance]?.listed ?? false
    }

    /// Whether `instance`'s watch goes on after the look now running.
    public func watchGoesOn(after instance: InstanceID) -> Bool {
        guard let watch = watches.watches[instance] else { return false }
        return !watch.lastLook
    }

    /// The `until` file of watched `instance` exists as its run starts:
    /// this run is its last look.
    public mutating func untilFileExists(for instance: InstanceID) {
        watches.watches[instance]?.lastLook = true
    }

    /// A watched generator's success (see `WatchTable`): its first makes its
    /// items ready; each schedules the next look, or ends the watch.
    mutating func watchedSucceeded(_ instance: InstanceID, stage: Int, into actions: inout [SchedulerAction]) {
        guard var watch = watches.watches[instance] else { preconditionFailure("\(instance) is not watched") }
        setState(instance, stage: stage, to: .succeeded)
        if !watch.succeededHere {
            watch.succeededHere = true
            if watch.listed {
                // Its journaled items stopped waiting for it at the start: the rest does now.
                releaseHeld(by: instance, into: &actions)
            } else {
                watch.listed = true
                satisfyDependents(of: instance, makingReady: true)
            }
        }
        if watch.lastLook {
            watches.watches[instance] = nil
            releaseHeld(by: instance, into: &actions)
            // Said only of a watch that looked again (not of a session found complete).
            if watch.looksTaken > 0 { actions.append(.watchEnded(instance)) }
        } else {
            let due = watches.now + watch.interval
            watch.nextLook = due
            watches.watches[instance] = watch
            watches.earliestLook = min(watches.earliestLook, due)
            actions.append(.lookAgain(instance, inSeconds: watch.interval))
        }
    }

    /// What waits for `generator` (its tree dependents) waits for one thing
    /// fewer: its success in this run, or its watch's end. At the watch's
    /// end, what an item's failure would have skipped while the watch went
    /// on (the item could still vanish from the list) is skipped now.
    private mutating func releaseHeld(by generator: InstanceID, into actions: inout [SchedulerAction]) {
        let watchEnded = watches.watches[generator] == nil
        for dependent in heldByWatch(generator) {
            unmet[dependent] -= 1
            let id = InstanceID(dependent)
            if unmet[dependent] == 0, states[dependent] == .waiting { makeReady(id, stage: graph.stage(of: id)) }
            if watchEnded, states[dependent] == .waiting { skipIfABranchFailed(id, into: &actions) }
        }
    }

    /// Whether `index` waits for the end of a watch still going: a failure
    /// before it skips it only then (see `releaseHeld`).
    func waitsForAWatch(_ index: Int) -> Bool {
        watches.watches.keys.contains { heldByWatch($0).contains(index) }
    }

    /// A watched generator's failure once its retries are spent. A failed
    /// first run skips what waits on it, as any failure does; a failed look
    /// keeps the items it listed before and skips only what waited for the
    /// watch's end (the list it would have made is unknown).
    mutating func watchedFailed(_ instance: InstanceID, into actions: inout [SchedulerAction]) {
        guard let watch = watches.watches.removeValue(forKey: instance) else { return }
        guard watch.listed else { return skipDownstream(of: instance, into: &actions) }
        for dependent in heldByWatch(instance) where states[dependent] == .waiting {
            let id = InstanceID(dependent)
            setState(id, stage: graph.stage(of: id), to: .skipped)
            skipCauses[id] = instance
            actions.append(.skip(id, because: instance))
            skipDownstream(of: id, cause: instance, into: &actions)
        }
    }

    /// Looks whose time has come go in line, like any ready instance.
    mutating func looksDue(into actions: inout [SchedulerAction]) {
        guard watches.earliestLook <= watches.now, !stopping else { return }
        // In instance order: the same looks start in the same order every time.
        for (instance, watch) in watches.watches.sorted(by: { $0.key < $1.key }) {
            guard let due = watch.nextLook, due <= watches.now else { continue }
            takeLook(instance, last: false)
            // Held for walltime when it had no work left (so not said then): said now.
            let stage = graph.stage(of: instance)
            if held.contains(stage), !announcedHolds.contains(stage), let walltime {
                announcedHolds.insert(stage)
                actions.append(.holdStarted(stage: stage, typicalSeconds: walltime.stageDurations[stage] ?? 0,
                                            secondsLeft: max(0, walltime.usableEnd - watches.now)))
            }
        }
        watches.recomputeEarliest()
        dispatch(into: &actions)
        // A look that cannot start (its stage held for walltime, no worker left for it) ends the run.
        finishIfDone(into: &actions)
    }

    /// Nothing but watches is left (nothing runs, nothing can start). With
    /// `--no-watch` every watch takes its last look now; else the run waits
    /// for their next looks. False when there is no watch to wait for.
    mutating func waitForWatches(into actions: inout [SchedulerAction]) -> Bool {
        guard !stopping, watches.waitingForLooks else { return false }
        guard watches.endWhenIdle else { return true }
        for (instance, watch) in watches.watches.sorted(by: { $0.key < $1.key }) where watch.nextLook != nil {
            takeLook(instance, last: true)
        }
        watches.recomputeEarliest()
        dispatch(into: &actions)
        return true
    }

    /// The generator runs again: a new attempt of the same instance.
    private mutating func takeLook(_ instance: InstanceID, last: Bool) {
        watches.watches[instance]?.nextLook = nil
        if last { watches.watches[instance]?.lastLook = true }
        watches.watches[instance]?.looksTaken += 1
        extraAttempts[instance, default: 0] += 1
        let spent = attempt(of: instance) - 1 - (lostAttempts[instance] ?? 0)
        watches.watches[instance]?.retriesBeforeLook = spent
        makeReady(instance, stage: graph.stage(of: instance))
    }
}
