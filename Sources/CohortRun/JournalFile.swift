public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// A failure to read or write the state folder: the run cannot go on safely.
public struct StateError: Error, CustomStringConvertible {
    public var description: String
}

/// `.cohort/<study>/` beside the job file: the journal and the lock.
public struct StateFolder: Sendable {
    public let path: String

    public init(jobFolder: String, study: String) {
        path = jobFolder + "/.cohort/" + study
    }

    public var journal: String { path + "/journal" }
    public var lock: String { path + "/lock" }
    /// A compact copy of what the journal said up to some point (see `JournalSnapshot`).
    public var snapshot: String { path + "/snapshot" }

    public func create() throws(StateError) {
        if let problem = makeFolder(path) { throw StateError(description: problem) }
    }
}

/// The append-only journal, written by rank 0 alone (DESIGN §5).
///
/// Each record is one `write(2)` to a file opened with O_APPEND, as it
/// happens: OpenMPI gives a signalled rank about a second, so nothing waits
/// in a buffer. Successes are followed by `fsync` before they count.
public final class JournalFile {
    private let fd: Int32
    public let path: String
    /// Bytes of the journal that its snapshot does not cover: what a reader
    /// parses as text (see `readHistory` and `append`).
    public private(set) var unsnapshotted = 0

    /// Opens (creating) the journal and returns what it held. A last record
    /// cut short by a kill is cut off the file, so that appends start on a
    /// fresh line; `history.damaged` says what was set aside.
    public init(path: String) throws(StateError) {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StateError(description: "cannot open the journal \(path): \(errnoText())") }
    }

    deinit { close(fd) }

    /// Everything recorded so far (through the snapshot at `snapshot` when
    /// it agrees with the journal); repairs a torn tail, then refreshes the
    /// snapshot if the journal held a megabyte or more it did not cover.
    public func readHistory(snapshot: String) throws(StateError) -> JournalHistory {
        guard let read = JournalReading.read(journal: path, snapshot: snapshot, verifying: true) else {
            throw StateError(description: "cannot read the journal \(path): \(errnoText())")
        }
        unsnapshotted = min(read.parsedBytes, read.coverage.length)
        if read.history.endsTorn {
            guard ftruncate(fd, off_t(read.coverage.length)) == 0, fsync(fd) == 0 else {
                throw StateError(description: "cannot repair the journal \(path): \(errnoText())")
            }
        } else if read.parsedBytes >= JournalReading.worthSnapshotting, JournalReading.writeSnapshot(read, to: snapshot) {
            unsnapshotted = 0
        }
        return read.history
    }

    /// Appends records in one write; with `durable`, returns only after fsync.
    public func append(_ records: [JournalRecord], durable: Bool) throws(StateError) {
        guard !records.isEmpty else { return }
        var bytes: [UInt8] = []
        for record in records { JournalFormat.encode(record, into: &bytes) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw StateError(description: "cannot write the journal \(path): \(errnoText())") }
            offset += count
        }
        unsnapshotted += bytes.count
        if durable { try sync() }
    }

    /// Returns once everything appended is on disk.
    public func sync() throws(StateError) {
        while fsync(fd) != 0 {
            guard errno == EINTR else { throw StateError(description: "cannot sync the journal \(path): \(errnoText())") }
        }
    }

}

/// One `cohort run` per state folder: an exclusive `flock` held for the
/// run's life. The kernel drops it when the process dies, so a lock left
/// by a killed run is recognised (its file remains, the lock does not) and
/// taken over.
public final class RunLock {
    private let fd: Int32

    public struct Held: Error, CustomStringConvertible {
        public var holder: String
        public var description: String { "another run holds this study's state (\(holder)); wait for it or stop it" }
    }

    /// Takes the lock, or throws `Held` naming the holder. `stale` describes
    /// a run that died holding it (its note is still in the file).
    public static func acquire(path: String, owner: String) throws -> (lock: RunLock, stale: String?) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StateError(description: "cannot open the lock \(path): \(errnoText())") }
        // `cohort status` probes the lock for an instant: try again for a
        // second before calling it held.
        var attempts = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            attempts += 1
            if error == EWOULDBLOCK && attempts < 20 {
                usleep(50_000)
                continue
            }
            let holder = readAll(fd).trimmingTrailingNewlines()
            close(fd)
            if error == EWOULDBLOCK { throw Held(holder: holder.isEmpty ? "holder unknown" : holder) }
            throw StateError(description: "cannot lock \(path): \(errnoText(error))")
        }
        // Read once the lock is ours: a run that ended cleanly meanwhile
        // (while this one waited) emptied the file before letting go.
        let previous = readAll(fd).trimmingTrailingNewlines()
        ftruncate(fd, 0)
        let text = owner + "\n"
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        fsync(fd)
        return (RunLock(fd: fd), previous.isEmpty ? nil : previous)
    }

    private init(fd: Int32) { self.fd = fd }

    /// Whether a live run holds the lock at `path` (its process is alive:
    /// the kernel drops the lock of a dead one), whatever the file says.
    /// Probes with a shared lock taken and dropped at once.
    public static func isHeld(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    /// Empties the lock file and releases the lock (a clean end leaves nothing stale).
    public func release() {
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
    }

    deinit { close(fd) }

    private static func readAll(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = pread(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
    }
}

extension String {
    /// Without trailing newlines and spaces.
    public func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return String(text)
    }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
