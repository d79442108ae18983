/// Which worker runs each instance, by the instance's place in the graph:
/// a dictionary's hashing on every start and end was a tenth of rank 0's
/// time at the scheduler's ceiling. Four bytes an instance.
struct WorkerByInstance {
    /// The worker's rank, or -1 where the instance runs nowhere.
    private var ranks: [Int32]

    init(count: Int) {
        ranks = Array(repeating: -1, count: count)
    }

    /// Room for instances up to `count` (item instances joining the run).
    mutating func grow(to count: Int) {
        if count > ranks.count { ranks.append(contentsOf: repeatElement(-1, count: count - ranks.count)) }
    }

    subscript(instance: InstanceID) -> WorkerID? {
        get {
            let rank = ranks[instance.index]
            return rank < 0 ? nil : WorkerID(Int(rank))
        }
        set {
            ranks[instance.index] = newValue.map { Int32(truncatingIfNeeded: $0.rawValue) } ?? -1
        }
    }

    mutating func removeValue(forKey instance: InstanceID) -> WorkerID? {
        defer { ranks[instance.index] = -1 }
        return self[instance]
    }
}
