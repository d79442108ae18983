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
        /// Whether those bytes held a damaged line: then no snapshot is
        /// made of them (a misread, say an NFS page not yet written back,
        /// would otherwise be kept for good).
        public var newDamage: Bool
    }

    /// Bytes of journal (about 5,000 records) left unparsed by a snapshot
    /// before a new one is worth writing: parsing fewer costs less than
    /// encoding and writing a snapshot of a large study.
    public static let worthSnapshotting = 1 << 20

    /// nil when there is no journal (no run yet). With `verifying`, the
    /// snapshot is trusted only when the CRC of the whole stretch it covers
    /// matches too (a run does this: reading is still far quicker than parsing).
    public static func read(journal: String, snapshot: String, verifying: Bool = false) -> Read? {
        let fd = open(journal, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let head = readBytes(fd, from: 0, upTo: JournalSnapshot.checkLength)
        var status = stat()
        let inode = fstat(fd, &status) == 0 ? UInt64(status.st_ino) : 0
        if let snapshotBytes = readFile(snapshot),
           let (history, coverage) = try? snapshotBytes.withUnsafeBufferPointer({ bytes throws(JournalSnapshot.Unusable) in
               try JournalSnapshot.decode(bytes)
           }),
           coverage.inode == inode, coverage.head == Array(head.prefix(coverage.head.count)),
           coverage.tail == readBytes(fd, from: coverage.length - coverage.tail.count, upTo: coverage.tail.count),
           !verifying || checksum(fd, length: coverage.length) == coverage.checksum {
            return continued(history, from: coverage, head: head, fd: fd)
        }
        let empty = JournalSnapshot.Coverage(length: 0, head: [], tail: [], checksum: 0, inode: inode)
        return continued(JournalHistory(), from: empty, head: head, fd: fd)
    }

    /// Writes a snapshot of what `read` returned, replacing the old one
    /// atomically (a new file renamed over it). Best effort: a snapshot
    /// that is missing or cannot be written only makes the next read slower.
    /// A history that ends in a torn line is not snapshotted.
    @discardableResult
    public static func writeSnapshot(_ read: Read, to path: String) -> Bool {
        guard !read.history.endsTorn, !read.newDamage, read.coverage.length > 0 else { return false }
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
        let damagedBefore = history.damaged.count
        let rest = readBytes(fd, from: coverage.length, upTo: Int.max)
        rest.withUnsafeBufferPointer { history.read($0) }
        // Whole lines only: a torn last line is not covered.
        let whole = (rest.lastIndex(of: 10).map { $0 + 1 } ?? 0)
        let checksum = rest.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[..<whole]), continuing: coverage.checksum) }
        let length = coverage.length + whole
        let tailStart = max(0, length - JournalSnapshot.checkLength)
        let tail: [UInt8] = tailStart >= coverage.length
            ? Array(rest[(tailStart - coverage.length)..<whole])
            : readBytes(fd, from: tailStart, upTo: length - tailStart)
        return Read(history: history, coverage: .init(length: length, head: Array(head.prefix(length)), tail: tail, checksum: checksum,
                                                      inode: coverage.inode),
                    parsedBytes: rest.count, newDamage: history.damaged.count > damagedBefore)
    }

    /// The CRC-32 of the first `length` bytes of `fd` (nil if it has fewer).
    private static func checksum(_ fd: Int32, length: Int) -> UInt32? {
        var crc: UInt32 = 0
        var offset = 0
        while offset < length {
            let chunk = readBytes(fd, from: offset, upTo: min(1 << 24, length - offset))
            guard !chunk.isEmpty else { return nil }
            crc = chunk.withUnsafeBufferPointer { CRC32.checksum($0, continuing: crc) }
            offset += chunk.count
        }
        return crc
    }

    /// Removes snapshots that a killed writer left half-written in `folder`
    /// (call under the run lock: no run is writing one then).
    public static func removeUnfinishedSnapshots(in folder: String) {
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("snapshot.new.") { names.append(name) }
        }
        for name in names { unlink(folder + "/" + name) }
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
