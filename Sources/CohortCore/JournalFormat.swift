/// The journal's text format: one record per line,
///
///     cohort1 <TAB> kind <TAB> key=value <TAB> ... <TAB> #crc32
///
/// Values are percent-escaped (`%`, tab, newline, carriage return), so a
/// record is always one line; the CRC-32 of everything before ` #` detects
/// a record torn by a kill in the middle of its write. Text, so that people
/// can read the journal with `less` on a login node.
public enum JournalFormat {
    static let magic = "cohort1"

    public static func encode(_ record: JournalRecord) -> String {
        var bytes: [UInt8] = []
        encode(record, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the record's line to `bytes`. Built as bytes, not strings:
    /// rank 0 writes two records per instance, and string building was a
    /// third of its time at the scheduler's ceiling.
    public static func encode(_ record: JournalRecord, into bytes: inout [UInt8]) {
        var line = RecordLine(taking: &bytes)
        switch record {
        case .runStarted(let run):
            line.kind("run")
            line.field("id", run.id)
            line.field("job", run.jobHash)
            line.field("host", run.host)
            line.field("pid", run.pid)
            line.field("ranks", run.ranks)
            line.time("time", run.time)
            if !run.only.isEmpty { line.field("only", run.only.joined(separator: ",")) }
            if !run.subjects.isEmpty { line.field("subjects", run.subjects.joined(separator: ",")) }
        case .started(let attempt):
            line.kind("start")
            line.attempt(attempt)
            if let logs = attempt.logs { line.field("logs", logs) }
            if !attempt.alsoRanks.isEmpty { line.field("also", attempt.alsoRanks.map(String.init).joined(separator: ",")) }
        case .finished(let attempt, let ending):
            line.kind("end")
            line.attempt(attempt)
            line.field("outcome", outcomeText(ending.outcome))
            line.time("wall", ending.wallSeconds)
            line.field("peakKiB", ending.peakMemoryKiB)
            if let logs = attempt.logs { line.field("logs", logs) }
            if let lineage = ending.lineage {
                line.definition("def", lineage.definition)
                line.hex("stamp", lineage.stamp)
                line.hex("inputs", lineage.inputs)
            }
        case .forced(let request, let time):
            line.kind("force")
            line.field("stages", request.stages.joined(separator: ","))
            line.field("only", request.only.joined(separator: ","))
            line.field("subjects", request.subjects.joined(separator: ","))
            line.time("time", time)
            if let id = request.id { line.field("id", id) }
        case .skipped(let instance, let cause, let time):
            line.kind("skip")
            line.field("instance", instance)
            line.field("cause", cause)
            line.time("time", time)
        case .drained(let rank, let host, let reason, let time):
            line.kind("drain")
            line.field("rank", rank)
            line.field("host", host)
            line.field("reason", reason)
            line.time("time", time)
        case .workerJoined(let rank, let host, let cpus, let memory, let time):
            line.kind("join")
            line.field("rank", rank)
            line.field("host", host)
            line.field("cpus", cpus)
            line.field("memory", memory)
            line.time("time", time)
        case .studyTree(let change):
            line.kind("tree")
            line.field("source", change.source)
            line.field("new", change.new.map(StudyTreeChange.word).joined(separator: ","))
            line.field("changed", change.changed.map(StudyTreeChange.word).joined(separator: ","))
            line.field("gone", change.gone.joined(separator: ","))
            line.time("time", change.time)
        case .itemsListed(let instance, let attempt, let items, let time, let watching):
            line.kind("items")
            line.field("instance", instance)
            line.field("attempt", attempt)
            // Items hold no control characters (ItemList): a newline, escaped, separates them.
            line.field("items", items.joined(separator: "\n"))
            if watching { line.field("watching", "yes") }
            line.time("time", time)
        case .itemsChanged(let instance, let attempt, let added, let removed, let time, let watching):
            line.kind("itemschange")
            line.field("instance", instance)
            line.field("attempt", attempt)
            line.field("added", added.joined(separator: "\n"))
            line.field("removed", removed.joined(separator: "\n"))
            if watching { line.field("watching", "yes") }
            line.time("time", time)
        case .runEnded(let reason, let time):
            line.kind("stop")
            line.field("reason", reason)
            line.time("time", time)
        }
        bytes = line.finished()
    }

    /// Why a line is not a record (torn, corrupt, from another version).
    public struct Damage: Error, Equatable, CustomStringConvertible {
        public var description: String
        /// A whole, checksummed record of a kind a newer Cohort writes: skipped, not damage.
        public var isNewerKind = false

        public init(description: String, isNewerKind: Bool = false) {
            self.description = description
            self.isNewerKind = isNewerKind
        }
    }

    public static func decode(_ line: Substring) throws(Damage) -> JournalRecord {
        var reader = JournalLineReader()
        let result = Array(line.utf8).withUnsafeBufferPointer { bytes in
            Result { () throws(Damage) in try reader.decode(bytes) }
        }
        return try result.get()
    }

    private static func outcomeText(_ outcome: AttemptOutcome) -> String {
        switch outcome {
        case .succeeded: "ok"
        case .exited(let code): "exit:\(code)"
        case .signaled(let signal): "signal:\(signal)"
        case .timedOut: "timeout"
        case .couldNotStart(let reason): "nostart:\(reason)"
        case .badItems(let reason): "items:\(reason)"
        case .interrupted, .lost: "interrupted"
        }
    }

    /// The `#crc32` text of a record's body (everything before its last tab).
    public static func checksumText(of body: String) -> String { hex(CRC32.checksum(Array(body.utf8))) }

    /// A comma-separated field as its items.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }

    static func unescape(_ value: Substring) -> String {
        guard value.contains("%") else { return String(value) }
        var out = ""
        var rest = value[...]
        while let percent = rest.firstIndex(of: "%") {
            out += rest[..<percent]
            let code = rest[percent...].prefix(3)
            switch code {
            case "%09": out += "\t"
            case "%0A": out += "\n"
            case "%0D": out += "\r"
            case "%25": out += "%"
            default: out += code
            }
            rest = rest[percent...].dropFirst(code.count)
        }
        return out + rest
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// CRC-32 (IEEE), eight bytes a step ("slicing by 8"): the journal's
/// checksum is computed over every record each time it is read.
public enum CRC32 {
    /// `table[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes.
    private static let table: [UInt32] = {
        var tables = [(0..<256).map { index -> UInt32 in
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
            return value
        }]
        for k in 1..<8 {
            tables.append((0..<256).map { index in
                let previous = tables[k - 1][index]
                return tables[0][Int(previous & 0xFF)] ^ (previous >> 8)
            })
        }
        return tables.flatMap { $0 }
    }()

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }

    /// The CRC of `bytes`; with `previous`, of whatever `previous` was the CRC of followed by `bytes`.
    public static func checksum(_ bytes: UnsafeBufferPointer<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt32 = previous ^ 0xFFFF_FFFF
            var index = 0
            let count = bytes.count
            while index + 8 <= count {
                let low = crc ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                    | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
                let high = UInt32(bytes[index + 4]) | UInt32(bytes[index + 5]) << 8
                    | UInt32(bytes[index + 6]) << 16 | UInt32(bytes[index + 7]) << 24
                crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = table[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
