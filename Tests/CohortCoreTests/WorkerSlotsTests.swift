@testable import CohortCore
import CohortTesting
import Testing

/// The scheduler looks only at workers with a free cpu and reads its
/// counts of suspect workers and cpus in service without a scan: what
/// `WorkerSlots` keeps must agree with its workers after any change.
@Suite struct WorkerSlotsTests {
    @Test func itsIndexAgreesWithItsWorkersAfterRandomChanges() {
        var random = SplitMix(seed: 11)
        var slots = WorkerSlots()
        // Over two 64-bit words, so a worker's bit can sit in each.
        for rank in 1...130 {
            let profile = WorkerProfile(capacity: Capacity(cpus: Int.random(in: 1...4, using: &random), memory: 1 << 30))
            slots.append(Scheduler.WorkerSlot(id: WorkerID(rank), profile: profile, free: profile.capacity, deviceHolders: []))
        }
        for _ in 0..<5_000 {
            let index = Int.random(in: 0..<slots.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: slots[index].free = Capacity(cpus: Int.random(in: 0...slots[index].profile.capacity.cpus, using: &random), memory: 0)
            case 1: slots[index].suspect.toggle()
            case 2: slots[index].drained.toggle()
            default:
                // A whole-slot write, as a copy changed and put back.
                var slot = slots[index]
                slot.free = Capacity(cpus: 0, memory: 0)
                slot.suspect = Bool.random(using: &random)
                slots[index] = slot
            }
            let from = Int.random(in: 0...slots.count, using: &random)
            #expect(slots.firstWithRoom(from: from) == slots.indices[from...].first { !slots[$0].drained && slots[$0].free.cpus > 0 })
            #expect(slots.suspectCount == slots.filter(\.suspect).count)
            #expect(slots.cpusInService == slots.filter { !$0.drained }.reduce(0) { $0 + $1.profile.capacity.cpus })
        }
    }

    /// A worker with cpus free but less memory than any stage asks for can
    /// start nothing: it is not looked at (a memory-bound study at 10,000
    /// workers was a scan of every worker per event).
    @Test func roomIsTheLeastAnyStageAsksFor() {
        let floor = WorkerSlots.roomFloor(of: [Stage(name: "a", domain: .subject, command: "x", dependencies: [], cpus: 2, memory: 4 << 30),
                                               Stage(name: "b", domain: .subject, command: "x", dependencies: [], cpus: 1, memory: 8 << 30)])
        #expect(floor == Capacity(cpus: 1, memory: 4 << 30))
        var slots = WorkerSlots(roomFloor: floor)
        let profile = WorkerProfile(capacity: Capacity(cpus: 4, memory: 16 << 30))
        slots.append(Scheduler.WorkerSlot(id: WorkerID(1), profile: profile, free: Capacity(cpus: 3, memory: 2 << 30), deviceHolders: []))
        slots.append(Scheduler.WorkerSlot(id: WorkerID(2), profile: profile, free: Capacity(cpus: 1, memory: 4 << 30), deviceHolders: []))
        #expect(slots.firstWithRoom(from: 0) == 1)
        slots[1].drained = true
        #expect(slots.firstWithRoom(from: 0) == nil, "a drained worker takes nothing")
    }

    @Test func noWorkerHasRoomWhenThereAreNone() {
        var slots = WorkerSlots()
        #expect(slots.firstWithRoom(from: 0) == nil)
        let profile = WorkerProfile(capacity: Capacity(cpus: 1, memory: 1 << 30))
        for rank in 1...64 { slots.append(Scheduler.WorkerSlot(id: WorkerID(rank), profile: profile, free: profile.capacity, deviceHolders: [])) }
        #expect(slots.firstWithRoom(from: 63) == 63)
        #expect(slots.firstWithRoom(from: 64) == nil)
        slots[63].free = Capacity(cpus: 0, memory: 0)
        #expect(slots.firstWithRoom(from: 10) == 10)
        #expect(slots.firstWithRoom(from: 63) == nil)
    }
}
