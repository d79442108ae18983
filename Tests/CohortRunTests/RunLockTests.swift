import CohortRun
import CohortTesting
import Foundation
import Testing

/// One run per study: the lock, and what it says of the run before.
@Suite struct RunLockTests {
    /// A run that ends cleanly while the next one waits for the lock is
    /// not "a run that ended without releasing it" (the note was read
    /// before waiting, and warned of a run that had ended well).
    @Test func aLockReleasedWhileTheNextRunWaitsIsNotCalledStale() throws {
        let folder = try TemporaryFolder.make(prefix: "lock")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/lock"
        let first = try RunLock.acquire(path: path, owner: "host a, pid 1")
        #expect(first.stale == nil)
        // Released from another thread while `acquire` below waits (its second of retries).
        nonisolated(unsafe) let held = first.lock
        let releaser = Thread { usleep(200_000); held.release() }
        releaser.start()
        let second = try RunLock.acquire(path: path, owner: "host b, pid 2")
        #expect(second.stale == nil, "released cleanly: \(second.stale ?? "")")
        second.lock.release()
    }

    @Test func aLockLeftByARunThatDiedIsStale() throws {
        let folder = try TemporaryFolder.make(prefix: "lock")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        Files.write(folder + "/lock", "host gone, pid 99999\n")
        let taken = try RunLock.acquire(path: folder + "/lock", owner: "host b, pid 2")
        #expect(taken.stale == "host gone, pid 99999")
        taken.lock.release()
    }
}
