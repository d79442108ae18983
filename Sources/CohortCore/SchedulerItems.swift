/// Item instances joining and leaving a run (DESIGN §8): a generator's
/// success lists items, the graph grows by their instances, and what waits
/// on them (a session's picking) waits for them too. Numbers never change
/// (see `ItemInstances`), so orders and reports in flight stay valid.
extension Scheduler {
    /// What `list(_:by:)` did: the instances added and dropped, and what the
    /// loop must carry out (skips of items whose branch failed, starts).
    public struct Listing: Sendable {
        public var added: [InstanceID]
        public var dropped: [InstanceID]
        public var actions: [SchedulerAction]
    }

    /// `generator`, whose success is about to count, listed `items`. Call
    /// before `instanceFinished(generator, …)`: that success then makes the
    /// new items ready. Items it no longer lists (a generator run again)
    /// are dropped: whatever waited on them stops waiting; one running ends
    /// for nothing (unless listed again before it ends).
    @discardableResult
    public mutating func list(_ items: [String], by generator: InstanceID) -> Listing {
        let before = states.count
        let (added, dropped) = graph.list(items, by: generator)
        let after = graph.instanceCount
        if after > before {
            states.append(contentsOf: repeatElement(.waiting, count: after - before))
            unmet.append(contentsOf: repeatElement(0, count: after - before))
            runningOn.grow(to: after)
        }
        for instance in added {
            let stage = graph.stage(of: instance)
            if instance.index >= before {
                tallies[stage].total += 1
                tallies[stage].waiting += 1
            } else if droppedWhileRunning.remove(instance) == nil {
                setState(instance, stage: stage, to: .waiting)  // listed again after a drop: anew
            }
            // (Dropped while running and listed again before its end: it runs on, and counts.)
        }
        // The new instances wait for their dependencies not yet met (their
        // generator's success, about to count, among them) …
        for instance in added where states[instance.index] == .waiting {
            var count: Int32 = 0
            for range in graph.dependencies(of: instance) {
                for index in range where states[index] != .succeeded && states[index] != .doneEarlier && !itemsListed(by: InstanceID(index)) {
                    count += 1
                }
            }
            unmet[instance.index] = count
        }
        // … and what was waiting on their branch waits for them too (the new
        // ones among themselves are counted above).
        let new = Set(added)
        for instance in added {
            for range in graph.dependents(of: instance) {
                for index in range where !new.contains(InstanceID(index)) { unmet[index] += 1 }
            }
        }
        if !selection.isEverything {
            for instance in added where states[instance.index] == .waiting && !selection.contains(instance, in: graph) {
                setState(instance, stage: graph.stage(of: instance), to: .unselected)
            }
        }
        var actions: [SchedulerAction] = []
        // An item whose branch already failed upstream is skipped, as it would
        // have been had it existed then (with everything after it).
        for instance in added where states[instance.index] == .waiting { skipIfABranchFailed(instance, into: &actions) }
        for instance in dropped { drop(instance) }
        // Listed again after the generator's success (a watched generator): ready at once.
        for instance in added where states[instance.index] == .waiting && unmet[instance.index] == 0 {
            makeReady(instance, stage: graph.stage(of: instance))
        }
        dispatch(into: &actions)
        return Listing(added: added, dropped: dropped, actions: actions)
    }

    /// Skips `instance`, waiting, and what follows it, when one of its
    /// dependencies failed or was skipped (the cause named is the failure).
    mutating func skipIfABranchFailed(_ instance: InstanceID, into actions: inout [SchedulerAction]) {
        for range in graph.dependencies(of: instance) {
            guard let blocker = range.first(where: { states[$0] == .failed || states[$0] == .skipped }) else { continue }
            let cause = states[blocker] == .failed ? InstanceID(blocker) : (skipCauses[InstanceID(blocker)] ?? InstanceID(blocker))
            setState(instance, stage: graph.stage(of: instance), to: .skipped)
            skipCauses[instance] = cause
            actions.append(.skip(instance, because: cause))
            skipDownstream(of: instance, cause: cause, into: &actions)
            return
        }
    }

    /// Items listed before this run (a resumed study), numbered after the
    /// tree's instances: counted at the start like any other instance.
    mutating func countListedItems() {
        for index in graph.treeInstanceCount..<graph.instanceCount {
            let instance = InstanceID(index)
            let stage = graph.stage(of: instance)
            tallies[stage].total += 1
            tallies[stage].waiting += 1
            if graph.isLive(instance) {
                unmet[index] = Int32(clamping: graph.dependencyCount(of: instance))
            } else {
                setState(instance, stage: stage, to: .dropped)
            }
        }
    }

    /// Takes a dropped item out of the run; what waited on it no longer does.
    private mutating func drop(_ instance: InstanceID) {
        let stage = graph.stage(of: instance)
        let state = states[instance.index]
        switch state {
        case .ready:
            readyCount -= 1
            if !readyQueues[stage].remove(instance) { retryQueues[stage].removeAll { $0 == instance } }
        case .running:
            // Its end, when it comes, frees its room and counts for nothing.
            droppedWhileRunning.insert(instance)
        default:
            break
        }
        if state != .running { setState(instance, stage: stage, to: .dropped) }
        if state != .succeeded && state != .doneEarlier { satisfyDependents(of: instance, makingReady: true) }
    }

    /// The end of an item dropped while it ran.
    mutating func itemEnded(dropped instance: InstanceID) -> [SchedulerAction] {
        let stage = graph.stage(of: instance)
        release(instance, stage: stage)
        setState(instance, stage: stage, to: .dropped)
        var actions: [SchedulerAction] = []
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }
}
