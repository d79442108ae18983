/// GPUs are not fungible (HyperQueue's lesson): an instance of a stage with
/// `gpus: K` holds K named devices of its worker, which no other running
/// instance holds, and its module sees exactly those (`CUDA_VISIBLE_DEVICES`).
/// `Capacity.gpus` counts them for placement; this says which.
extension Scheduler {
    /// The GPU devices `instance` holds while it runs (empty for none), as
    /// its worker named them.
    public func devices(of instance: InstanceID) -> [String] {
        guard !heldDevices.isEmpty, let positions = heldDevices[instance], let worker = runningOn[instance],
              let index = workerIndex[worker] else { return [] }
        return positions.map { workers[index].profile.devices[$0] }
    }

    /// Gives `instance`, just placed on worker `index`, `count` devices no one holds.
    mutating func takeDevices(_ count: Int, for instance: InstanceID, onWorker index: Int) {
        heldDevices[instance] = claimDevices(count, by: instance, onWorker: index)
    }

    /// Marks `count` free devices of worker `index` as held by `instance`; their positions.
    mutating func claimDevices(_ count: Int, by instance: InstanceID, onWorker index: Int) -> [Int] {
        var taken: [Int] = []
        for position in workers[index].deviceHolders.indices where workers[index].deviceHolders[position] == nil {
            workers[index].deviceHolders[position] = instance
            taken.append(position)
            if taken.count == count { break }
        }
        // Capacity counted the devices free: there are always enough.
        precondition(taken.count == count, "worker \(workers[index].id) had \(taken.count) free GPUs for \(count)")
        return taken
    }

    /// Its devices go back to worker `index` (the instance ended or was given back).
    mutating func releaseDevices(of instance: InstanceID, onWorker index: Int) {
        guard !heldDevices.isEmpty, let positions = heldDevices.removeValue(forKey: instance) else { return }
        unclaimDevices(positions, onWorker: index)
    }

    /// The devices at these positions of worker `index` are free again.
    mutating func unclaimDevices(_ positions: [Int], onWorker index: Int) {
        for position in positions { workers[index].deviceHolders[position] = nil }
    }
}
