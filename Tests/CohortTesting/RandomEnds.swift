public import CohortCore

extension Scheduler {
    /// Ends the running instances one at a time, each a success, in a
    /// random order (`seed`), starting what each end starts, until nothing
    /// runs; `check` sees the scheduler and what runs before every end.
    /// Returns how many ended.
    public mutating func endAtRandom(_ running: [(InstanceID, WorkerID)], seed: UInt64,
                                     check: (Scheduler, [(InstanceID, WorkerID)]) -> Void) -> Int {
        var random = SplitMix(seed: seed)
        var running = running
        var ended = 0
        while !running.isEmpty {
            check(self, running)
            let (instance, _) = running.remove(at: Int(random.next() % UInt64(running.count)))
            for case .start(let next, let worker) in instanceFinished(instance, succeeded: true) { running.append((next, worker)) }
            ended += 1
        }
        return ended
    }
}
