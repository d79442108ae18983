/// The scheduler's workers, keeping what it asks of all of them on every
/// event up to date as they change: which have room for some stage, how
/// many are suspect, how many cpus are in service. At 10,000 workers,
/// scanning every worker for these on each event was most of the
/// scheduler's time (see BENCHMARKS.md, scheduling quality).
///
/// Every change goes through the subscript, so the index cannot fall behind.
struct WorkerSlots: RandomAccessCollection, MutableCollection {
    private var slots: [Scheduler.WorkerSlot] = []
    /// The least room any stage asks for (resource by resource, a cpu at
    /// least): a worker with less free can start nothing, however many
    /// cpus it has free (a memory-bound study).
    let roomFloor: Capacity
    /// Bit `i` set: worker `i` is in service and has `roomFloor` free.
    private var withRoom: [UInt64] = []
    /// Workers marked suspect (see `WorkerHealth`).
    private(set) var suspectCount = 0
    /// Cpus of the workers not drained.
    private(set) var cpusInService = 0

    init(roomFloor: Capacity = Capacity(cpus: 1, memory: 0)) {
        self.roomFloor = roomFloor
    }

    /// The floor for `stages` (see `roomFloor`).
    static func roomFloor(of stages: [Stage]) -> Capacity {
        Capacity(cpus: Swift.max(1, stages.map(\.cpus).min() ?? 1), memory: stages.map(\.memory).min() ?? 0,
                 gpus: stages.map(\.gpus).min() ?? 0)
    }

    var startIndex: Int { 0 }
    var endIndex: Int { slots.count }

    subscript(index: Int) -> Scheduler.WorkerSlot {
        get { slots[index] }
        set {
            count(at: index, as: -1)
            slots[index] = newValue
            noteChange(at: index)
        }
        _modify {
            count(at: index, as: -1)
            defer { noteChange(at: index) }
            yield &slots[index]
        }
    }

    mutating func append(_ slot: Scheduler.WorkerSlot) {
        slots.append(slot)
        if slots.count > withRoom.count * 64 { withRoom.append(0) }
        noteChange(at: slots.count - 1)
    }

    /// The first worker at `index` (≥ 0) or after it in service with `roomFloor` free.
    func firstWithRoom(from index: Int) -> Int? {
        var word = index >> 6
        guard word < withRoom.count else { return nil }
        var bits = withRoom[word] & (~0 << UInt64(index & 63))
        while bits == 0 {
            word += 1
            guard word < withRoom.count else { return nil }
            bits = withRoom[word]
        }
        return word << 6 + bits.trailingZeroBitCount
    }

    private mutating func noteChange(at index: Int) {
        count(at: index, as: 1)
        let bit = UInt64(1) << UInt64(index & 63)
        if !slots[index].drained && slots[index].free.fits(roomFloor) { withRoom[index >> 6] |= bit } else { withRoom[index >> 6] &= ~bit }
    }

    /// Field by field: a copy of the slot would retain its arrays.
    private mutating func count(at index: Int, as sign: Int) {
        if slots[index].suspect { suspectCount += sign }
        if !slots[index].drained { cpusInService += sign * slots[index].profile.capacity.cpus }
    }
}

extension Scheduler {
    /// A worker as the scheduler sees it: its room, its health, its work.
    struct WorkerSlot {
        var id: WorkerID
        var profile: WorkerProfile
        var free: Capacity
        var running = 0
        /// Stages of its failures in a row that came quickly (see `WorkerHealth`).
        var quickFailures: [Int] = []
        /// It gets no more work (a broken node, or told to).
        var drained = false
        /// No new work until another worker reports (see `WorkerHealth`).
        var suspect = false
        /// When it was last marked suspect (`Scheduler.lastTimeReading`).
        var suspectSince = 0.0
        /// Instances running here without a follow-on (candidates for one).
        var withoutFollowOn: [InstanceID] = []
        /// Per GPU device of its profile: the instance holding it.
        var deviceHolders: [InstanceID?]
        /// Held for a multi-node instance that waits for room: no new work.
        var reserved = false
    }
}
