/// A compact binary copy of a `JournalHistory`, and the stretch of journal
/// it was made from — so that `status`, `plan` and a resumed `run` read a
/// 10^6-instance study in a fraction of a second instead of parsing
/// hundreds of megabytes of text (DESIGN §5; issue 12).
///
/// The journal stays the source of truth. A snapshot names how many bytes
/// of the journal it covers and carries the first and last bytes of that
/// stretch; a reader uses it only when the journal still holds exactly
/// those bytes there (then reads the journal's later lines on top), and
/// otherwise ignores it and reads the journal whole. Its own CRC-32 guards
/// against a damaged file. This file only encodes and decodes: the caller
/// reads and writes (the core does no I/O).
public enum JournalSnapshot {
    /// Names the format and the meaning of what it holds: a change to either
    /// (to `JournalHistory.apply` too) must change it, so old snapshots are ignored.
    static let magic = Array("cohort-snapshot7\n".utf8)
    /// How many bytes of the journal's start and of its covered end a snapshot keeps to recognise it.
    public static let checkLength = 64

    /// Which stretch of the journal a snapshot covers.
    public struct Coverage: Equatable, Sendable {
        /// Bytes of the journal covered, from its start; always whole lines.
        public var length: Int
        /// The journal's first bytes (up to `checkLength`).
        public var head: [UInt8]
        /// The last bytes of the covered stretch (up to `checkLength`).
        public var tail: [UInt8]
        /// CRC-32 of the whole covered stretch: what a reader that must be
        /// sure (a run, before it trusts the snapshot) checks.
        public var checksum: UInt32
        /// The journal file's inode number: an editor, `sed -i` or a copy
        /// moved into place makes a new file (runs only ever append).
        public var inode: UInt64

        public init(length: Int, head: [UInt8], tail: [UInt8], checksum: UInt32, inode: UInt64) {
            self.length = length
            self.head = head
            self.tail = tail
            self.checksum = checksum
            self.inode = inode
        }
    }

    /// Why bytes are not a snapshot this version can use.
    public struct Unusable: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ history: JournalHistory, covering coverage: Coverage) -> [UInt8] {
        var out = SnapshotWriter()
        out.bytes += magic
        out.integer(coverage.length)
        out.data(coverage.head)
        out.data(coverage.tail)
        out.word32(coverage.checksum)
        out.word(coverage.inode)
        out.integer(history.lineCount)
        out.integer(history.recordCount)
        out.integer(history.runs)
        out.flag(history.lastRunEnded)
        out.optional(history.lastRun) { out, run in
            out.text(run.id); out.text(run.jobHash); out.text(run.host); out.integer(run.pid); out.integer(run.ranks)
            out.double(run.time); out.list(run.only); out.list(run.subjects)
        }
        out.optional(history.lastRecordTime) { out, time in out.double(time) }
        out.integer(history.forcesByID.count)
        for (id, request) in history.forcesByID.sorted(by: { $0.key < $1.key }) {
            out.text(id); out.list(request.stages); out.list(request.only); out.list(request.subjects)
            out.optional(request.id) { out, id in out.text(id) }
        }
        out.integer(history.damaged.count)
        for damage in history.damaged { out.integer(damage.line); out.text(damage.reason) }
        out.integer(history.itemLists.count)
        for (name, items) in history.itemLists.sorted(by: { $0.key < $1.key }) { out.text(name); out.list(items) }
        out.list(history.watching.sorted())
        out.optional(history.studyTree) { out, tree in
            out.text(tree.source)
            out.integer(tree.sessions.count)
            for (name, sessions) in tree.sessions.sorted(by: { $0.key < $1.key }) { out.text(name); out.list(sessions) }
        }
        // Hosts are few: a table, and an index per entry.
        var hostIndex: [String: Int] = [:]
        var hosts: [String] = []
        for entry in history.slots where hostIndex[entry.lastHost] == nil {
            hostIndex[entry.lastHost] = hosts.count
            hosts.append(entry.lastHost)
        }
        out.list(hosts)
        // Names as their parts' numbers (see `InstanceNameKey`): the parts once, then four numbers an entry.
        out.list(history.parts.texts)
        out.integer(history.slots.count)
        for (key, entry) in zip(history.keys, history.slots) {
            // Four fixed-width words: read without a branch per byte.
            for part in [key.parts.0, key.parts.1, key.parts.2, key.parts.3] { out.word32(part) }
            var flags: UInt8 = 0
            for (bit, set) in [entry.unfinished, entry.skipped, entry.forcePending, entry.success != nil,
                               entry.success?.lineage != nil, entry.lastOutcome != nil, entry.lastLogs != nil,
                               entry.lastSuccessWallSeconds != nil].enumerated() where set {
                flags |= 1 << UInt8(bit)
            }
            out.bytes.append(flags)
            out.integer(entry.attempts)
            if let success = entry.success {
                out.integer(success.sequence)
                if let lineage = success.lineage {
                    for value in [lineage.definition.run, lineage.definition.environment, lineage.definition.setup,
                                  lineage.definition.script, lineage.stamp, lineage.inputs] {
                        out.word(value)
                    }
                }
            }
            if let outcome = entry.lastOutcome { out.outcome(outcome) }
            if let logs = entry.lastLogs { out.text(logs) }
            if let wall = entry.lastSuccessWallSeconds { out.double(wall) }
            out.integer(entry.lastRank)
            out.integer(hostIndex[entry.lastHost] ?? 0)
            out.double(entry.lastStartTime)
            out.double(entry.lastWallSeconds)
            out.integer(entry.lastPeakMemoryKiB)
        }
        out.word32(CRC32.checksum(out.bytes))
        return out.bytes
    }

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(Unusable) -> (history: JournalHistory, coverage: Coverage) {
        guard bytes.count >= magic.count + 4, magic.elementsEqual(UnsafeBufferPointer(rebasing: bytes[..<magic.count])) else {
            throw Unusable(description: "not a cohort snapshot")
        }
        let body = UnsafeBufferPointer(rebasing: bytes[..<(bytes.count - 4)])
        var trailer = SnapshotReader(bytes: bytes, position: bytes.count - 4)
        guard CRC32.checksum(body) == (try trailer.word32()) else { throw Unusable(description: "checksum mismatch") }
        var input = SnapshotReader(bytes: body, position: magic.count)
        let coverage = Coverage(length: try input.integer(), head: try input.data(), tail: try input.data(),
                                checksum: try input.word32(), inode: try input.word())
        var history = JournalHistory()
        history.lineCount = try input.integer()
        history.recordCount = try input.integer()
        history.runs = try input.integer()
        history.lastRunEnded = try input.flag()
        history.lastRun = try input.optional { input throws(Unusable) in
            JournalRecord.RunStart(id: try input.text(), jobHash: try input.text(), host: try input.text(), pid: try input.integer(),
                                   ranks: try input.integer(), time: try input.double(), only: try input.list(),
                                   subjects: try input.list())
        }
        history.lastRecordTime = try input.optional { input throws(Unusable) in try input.double() }
        for _ in 0..<(try input.count()) {
            let id = try input.text()
            history.forcesByID[id] = ForceRequest(stages: try input.list(), only: try input.list(), subjects: try input.list(),
                                                  id: try input.optional { input throws(Unusable) in try input.text() })
        }
        for _ in 0..<(try input.count()) { history.damaged.append((try input.integer(), try input.text())) }
        for _ in 0..<(try input.count()) { history.itemLists[try input.text()] = try input.list() }
        history.watching = Set(try input.list())
        history.studyTree = try input.optional { input throws(Unusable) in
            var tree = RecordedTree(source: try input.text())
            for _ in 0..<(try input.count()) { tree.sessions[try input.text()] = try input.list() }
            return tree
        }
        let hosts = try input.list()
        let parts = try input.list()
        for part in parts { _ = history.parts.intern(part) }
        guard history.parts.texts.count == parts.count else { throw Unusable(description: "repeated name part") }
        let count = try input.count()
        history.slots.reserveCapacity(count)
        history.keys.reserveCapacity(count)
        // Built when a name is first looked up (see `SlotIndex`).
        history.slotIndex = SlotIndex(nil)
        for _ in 0..<count {
            let key = InstanceNameKey(try input.part(of: parts.count), try input.part(of: parts.count),
                                      try input.part(of: parts.count), try input.part(of: parts.count))
            history.slots.append(JournalHistory.Entry())
            let slot = history.slots.count - 1
            try fill(&history.slots[slot])
            history.keys.append(key)
        }
        guard input.position == body.count else { throw Unusable(description: "trailing bytes") }
        return (history, coverage)

        /// Reads one entry's fields (after its key and flags) into `entry`, in place.
        func fill(_ entry: inout JournalHistory.Entry) throws(Unusable) {
            let flags = try input.byte()
            func has(_ bit: UInt8) -> Bool { flags & (1 << bit) != 0 }
            entry.unfinished = has(0)
            entry.skipped = has(1)
            entry.forcePending = has(2)
            entry.attempts = try input.integer()
            if has(3) {
                let sequence = try input.integer()
                var lineage: SuccessLineage?
                if has(4) {
                    let definition = InstanceDefinition(run: try input.word(), environment: try input.word(), setup: try input.word(),
                                                        script: try input.word())
                    lineage = SuccessLineage(definition: definition, stamp: try input.word(), inputs: try input.word())
                }
                entry.success = JournalHistory.Success(lineage: lineage, sequence: sequence)
            }
            if has(5) { entry.lastOutcome = try input.outcome() }
            if has(6) { entry.lastLogs = try input.text() }
            if has(7) { entry.lastSuccessWallSeconds = try input.double() }
            entry.lastRank = try input.integer()
            let host = try input.integer()
            guard hosts.indices.contains(host) else { throw Unusable(description: "bad host") }
            entry.lastHost = hosts[host]
            entry.lastStartTime = try input.double()
            entry.lastWallSeconds = try input.double()
            entry.lastPeakMemoryKiB = try input.integer()
        }
    }
}

/// Appends the snapshot's primitives: LEB128 integers (zigzag for signed),
/// length-prefixed text, little-endian words.
private struct SnapshotWriter {
    var bytes: [UInt8] = []

    mutating func integer(_ value: Int) {
        var rest = UInt64(bitPattern: Int64((value << 1) ^ (value >> 63)))
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// A fixed-width number, little-endian (`word` for 64 bits, `word32` for 32).
    mutating func littleEndian<Word: FixedWidthInteger & UnsignedInteger>(_ value: Word) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func word(_ value: UInt64) { littleEndian(value) }
    mutating func word32(_ value: UInt32) { littleEndian(value) }

    mutating func double(_ value: Double) { word(value.bitPattern) }
    mutating func flag(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func data(_ value: [UInt8]) {
        integer(value.count)
        bytes += value
    }

    mutating func text(_ value: String) { data(Array(value.utf8)) }

    mutating func list(_ values: [String]) {
        integer(values.count)
        for value in values { text(value) }
    }

    mutating func optional<T>(_ value: T?, _ write: (inout SnapshotWriter, T) -> Void) {
        flag(value != nil)
        if let value { write(&self, value) }
    }

    mutating func outcome(_ outcome: AttemptOutcome) {
        switch outcome {
        case .succeeded: bytes.append(0)
        case .exited(let code): bytes.append(1); integer(Int(code))
        case .signaled(let signal): bytes.append(2); integer(Int(signal))
        case .timedOut: bytes.append(3)
        case .couldNotStart(let reason): bytes.append(4); text(reason)
        case .badItems(let reason): bytes.append(7); text(reason)
        case .interrupted: bytes.append(5)
        case .lost: bytes.append(6)
        }
    }
}

/// Reads what `SnapshotWriter` wrote; anything out of bounds or malformed makes the snapshot unusable.
private struct SnapshotReader {
    typealias Unusable = JournalSnapshot.Unusable
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    mutating func byte() throws(Unusable) -> UInt8 {
        guard position < bytes.count else { throw Unusable(description: "cut short") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func integer() throws(Unusable) -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw Unusable(description: "bad integer") }
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { break }
            shift += 7
        }
        let signed = Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
        return Int(signed)
    }

    /// A count of things that follow, each at least a byte: bounded by what is left.
    mutating func count() throws(Unusable) -> Int {
        let value = try integer()
        guard value >= 0, value <= bytes.count - position else { throw Unusable(description: "bad count") }
        return value
    }

    /// A name part's id among `count` parts, or `absent`.
    mutating func part(of count: Int) throws(Unusable) -> UInt32 {
        let id = try word32()
        guard id == InstanceNameKey.absent || Int(id) < count else { throw Unusable(description: "bad name part") }
        return id
    }

    /// A fixed-width number as `SnapshotWriter.littleEndian` wrote it.
    mutating func littleEndian<Word: FixedWidthInteger & UnsignedInteger>(_: Word.Type) throws(Unusable) -> Word {
        let size = MemoryLayout<Word>.size
        guard position + size <= bytes.count else { throw Unusable(description: "cut short") }
        var value: Word = 0
        for index in 0..<size { value |= Word(bytes[position + index]) << (8 * index) }
        position += size
        return value
    }

    mutating func word32() throws(Unusable) -> UInt32 { try littleEndian(UInt32.self) }
    mutating func word() throws(Unusable) -> UInt64 { try littleEndian(UInt64.self) }

    mutating func double() throws(Unusable) -> Double { Double(bitPattern: try word()) }

    mutating func flag() throws(Unusable) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw Unusable(description: "bad flag")
        }
    }

    mutating func data() throws(Unusable) -> [UInt8] {
        let length = try count()
        defer { position += length }
        return Array(bytes[position..<position + length])
    }

    mutating func text() throws(Unusable) -> String {
        let length = try count()
        defer { position += length }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<position + length]), as: UTF8.self)
    }

    mutating func list() throws(Unusable) -> [String] {
        var values: [String] = []
        for _ in 0..<(try count()) { values.append(try text()) }
        return values
    }

    mutating func optional<T>(_ read: (inout SnapshotReader) throws(Unusable) -> T) throws(Unusable) -> T? {
        try flag() ? try read(&self) : nil
    }

    mutating func outcome() throws(Unusable) -> AttemptOutcome {
        switch try byte() {
        case 0: return .succeeded
        case 1:
            guard let code = Int32(exactly: try integer()) else { throw Unusable(description: "bad exit code") }
            return .exited(code)
        case 2:
            guard let signal = Int32(exactly: try integer()) else { throw Unusable(description: "bad signal") }
            return .signaled(signal)
        case 3: return .timedOut
        case 4: return .couldNotStart(try text())
        case 7: return .badItems(try text())
        case 5: return .interrupted
        case 6: return .lost
        default: throw Unusable(description: "bad outcome")
        }
    }
}
