import CohortCore

/// Walltime holds: what would not end before the allocation does is not started.
extension Coordinator {
    /// Held stages with work left that would not fit even in a fresh allocation of this length.
    func tooLongStages() -> [TooLongStage] {
        guard let walltime, let start = walltime.start else { return [] }
        return heldStages.sorted().filter { walltime.neverFits($0) && scheduler.tallies[$0].waiting + scheduler.tallies[$0].ready > 0 }
            .map { TooLongStage(name: graph.job.stages[$0].name, typicalSeconds: walltime.stageDurations[$0] ?? 0,
                                allocationSeconds: walltime.usableEnd - start) }
    }

    /// Stages whose typical duration no longer fits before the allocation ends.
    func updateHolds() -> [SchedulerAction] {
        guard let walltime, stoppedBy == nil else { return [] }
        let left = walltime.usableEnd - wallClock()
        var held: Set<Int> = []
        for (stage, duration) in walltime.stageDurations.enumerated() {
            if let duration, duration > left { held.insert(stage) }
        }
        guard held != heldStages else { return [] }
        heldStages = held
        for stage in held.subtracting(announcedHolds).sorted()
        where scheduler.tallies[stage].waiting + scheduler.tallies[stage].ready > 0 {
            let name = graph.job.stages[stage].name
            reporter.holding(stage: name, typicalSeconds: walltime.stageDurations[stage] ?? 0, secondsLeft: max(0, left))
        }
        announcedHolds.formUnion(held.filter { scheduler.tallies[$0].waiting + scheduler.tallies[$0].ready > 0 })
        return scheduler.hold(stages: held)
    }
}
