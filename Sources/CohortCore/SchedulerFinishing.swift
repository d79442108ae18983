/// When a run is over: everything accounted for, or nothing left that can
/// happen (work held back, unselected, or that no worker can start).
extension Scheduler {
    mutating func finishIfDone(into actions: inout [SchedulerAction]) {
        guard !finished, runningCount == 0 else { return }
        // Otherwise what is left waits for work in flight or for a worker.
        // With nothing running and nothing startable, nothing more can happen:
        // what is left waits for held stages or for unselected instances.
        let onlyHeldReady = readyQueues.indices.allSatisfy { !hasReady($0) || held.contains($0) }
        guard stopping || finalCount == states.count || onlyHeldReady || allJoined else { return }
        // Generators still watching for data: the run waits for their looks.
        if !watches.isEmpty, !isHoldingWork, waitForWatches(into: &actions) { return }
        if !stopping && !onlyHeldReady {
            // Dispatch ran just before and started nothing: with every
            // worker idle, no lock is held, so capacity or labels rule it out.
            let startable = readyQueues.indices.filter { hasReady($0) && !held.contains($0) }
            let unplaceable = Self.unplaceableStages(of: graph.job, on: workers.filter { !$0.drained }.map(\.profile))
            let anywhere = Set(Self.unplaceableStages(of: graph.job, on: workers.map(\.profile)).map(\.stage))
            stuck = startable.map { index in
                let stage = graph.job.stages[index]
                guard var reason = unplaceable.first(where: { $0.stage == stage.name }) else {
                    return UnplaceableStage(stage: stage.name, needs: stage.demand, largest: stage.demand, label: stage.on, unexplained: true)
                }
                reason.drainedOnly = !anywhere.contains(stage.name)
                return reason
            }
        }
        finished = true
        for worker in workers { actions.append(.stopWorker(worker.id)) }
        actions.append(.finish)
    }
}
