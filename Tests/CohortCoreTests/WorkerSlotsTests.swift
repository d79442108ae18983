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
            #expect(slots.firstWithRoom(from: from) == slots.indices[from...].first { slots[$0].free.cpus > 0 })
            #expect(slots.suspectCount == slots.filter(\.suspect).count)
            #expect(slots.cpusInService == slots.filter { !$0.drained }.reduce(0) { $0 + $1.profile.capacity.cpus })
        }
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
