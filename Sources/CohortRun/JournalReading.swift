public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a study's journal history from disk the quick way: the snapshot
/// beside the journal when the journal still holds what it covers, plus the
/// journal's lines after it; otherwise the whole journal (DESIGN §5).
/// Takes no lock: the journal only grows at its end, and a record being
/// appended at this moment is a torn last line, set aside like any other.
public enum JournalReading {
    /// What was read, and how to snapshot it.
    public struct Read {
        public var history: JournalHistory
        /// The whole lines read, for a snapshot of `history`.
        public var coverage: JournalSnapshot.Coverage
        /// Bytes of journal text parsed (not covered by a snapshot).
        public var parsedBytes: Int
    }

    /// nil when there is no journal (no run yet).
    public static func read(journal: String, snapshot: String) -> Read? {
        let fd = open(journal, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let head = readBytes(fd, from: 0, upTo: JournalSnapshot.checkLength)
        if let snapshotBytes = readFile(snapshot),
           let (history, coverage) = try? snapshotBytes.withUnsafeBufferPointer({ bytes throws(JournalSnapshot.Unusable) in
               try JournalSnapshot.decode(bytes)
           }),
           coverage.head == Array(head.prefix(coverage.head.count)),
           coverage.tail == readBytes(fd, from: coverage.length - coverage.tail.count, upTo: coverage.tail.count) {
            return continued(history, from: coverage, head: head, fd: fd)
        }
        let empty = JournalSnapshot.Coverage(length: 0, head: [], tail: [])
        return continued(JournalHistory(), from: empty, head: head, fd: fd)
    }

    /// Writes a snapshot of what `read` returned, replacing the old one
    /// atomically (a new file renamed over it). Best effort: a snapshot
    /// that is missing or cannot be written only makes the next read slower.
    /// A history that ends in a torn line is not snapshotted.
    @discardableResult
    public static func writeSnapshot(_ read: Read, to path: String) -> Bool {
        guard !read.history.endsTorn, read.coverage.length > 0 else { return false }
        let bytes = JournalSnapshot.encode(read.history, covering: read.coverage)
        let temporary = path + ".new.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            offset += count
        }
        close(fd)
        guard offset == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// `history` (covering `coverage`) with the journal's lines after it applied.
    private static func continued(_ history: JournalHistory, from coverage: JournalSnapshot.Coverage, head: [UInt8],
                                  fd: Int32) -> Read {
        var history = history
        let rest = readBytes(fd, from: coverage.length, upTo: Int.max)
        rest.withUnsafeBufferPointer { history.read($0) }
        // Whole lines only: a torn last line is not covered.
        let whole = (rest.lastIndex(of: 10).map { $0 + 1 } ?? 0)
        let length = coverage.length + whole
        let tailStart = max(0, length - JournalSnapshot.checkLength)
        let tail: [UInt8] = tailStart >= coverage.length
            ? Array(rest[(tailStart - coverage.length)..<whole])
            : readBytes(fd, from: tailStart, upTo: length - tailStart)
        return Read(history: history, coverage: .init(length: length, head: Array(head.prefix(length)), tail: tail),
                    parsedBytes: rest.count)
    }

    /// Up to `limit` bytes of `fd` from `offset` (fewer at its end).
    private static func readBytes(_ fd: Int32, from offset: Int, upTo limit: Int) -> [UInt8] {
        guard offset >= 0, limit > 0 else { return [] }
        var status = stat()
        let size = fstat(fd, &status) == 0 ? Int(status.st_size) : 0
        var bytes = [UInt8](repeating: 0, count: max(0, min(limit, size - offset)))
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            done += count
        }
        // The file may have grown since fstat: what was read is all there is for this read.
        return done == bytes.count ? bytes : Array(bytes[..<done])
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readBytes(fd, from: 0, upTo: Int.max)
    }
}
