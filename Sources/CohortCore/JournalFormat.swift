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
        var fields: [(String, String)]
        let kind: String
        switch record {
        case .runStarted(let run):
            kind = "run"
            fields = [("id", run.id), ("job", run.jobHash), ("host", run.host), ("pid", String(run.pid)),
                      ("ranks", String(run.ranks)), ("time", timeText(run.time))]
            if !run.only.isEmpty { fields.append(("only", run.only.joined(separator: ","))) }
            if !run.subjects.isEmpty { fields.append(("subjects", run.subjects.joined(separator: ","))) }
        case .started(let attempt):
            kind = "start"
            fields = attemptFields(attempt) + (attempt.logs.map { [("logs", $0)] } ?? [])
        case .finished(let attempt, let ending):
            kind = "end"
            fields = attemptFields(attempt) + [
                ("outcome", outcomeText(ending.outcome)),
                ("wall", timeText(ending.wallSeconds)), ("peakKiB", String(ending.peakMemoryKiB)),
            ]
            if let lineage = ending.lineage {
                fields += [("def", lineage.definition.text), ("stamp", hex16(lineage.stamp)), ("inputs", hex16(lineage.inputs))]
            }
        case .forced(let request, let time):
            kind = "force"
            fields = [("stages", request.stages.joined(separator: ",")), ("only", request.only.joined(separator: ",")),
                      ("subjects", request.subjects.joined(separator: ",")), ("time", timeText(time))]
                + (request.id.map { [("id", $0)] } ?? [])
        case .skipped(let instance, let cause, let time):
            kind = "skip"
            fields = [("instance", instance), ("cause", cause), ("time", timeText(time))]
        case .drained(let rank, let host, let reason, let time):
            kind = "drain"
            fields = [("rank", String(rank)), ("host", host), ("reason", reason), ("time", timeText(time))]
        case .runEnded(let reason, let time):
            kind = "stop"
            fields = [("reason", reason), ("time", timeText(time))]
        }
        var line = magic + "\t" + kind
        for (key, value) in fields { line += "\t" + key + "=" + escape(value) }
        return line + "\t#" + hex(CRC32.checksum(Array(line.utf8))) + "\n"
    }

    /// Why a line is not a record (torn, corrupt, from another version).
    public struct Damage: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func decode(_ line: Substring) throws(Damage) -> JournalRecord {
        guard let tab = line.lastIndex(of: "\t"), line[line.index(after: tab)...].first == "#" else {
            throw Damage(description: "no checksum")
        }
        let body = line[..<tab]
        guard hex(CRC32.checksum(Array(body.utf8))) == line[line.index(tab, offsetBy: 2)...] else {
            throw Damage(description: "checksum mismatch")
        }
        let parts = body.split(separator: "\t", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == magic else { throw Damage(description: "not a cohort1 record") }
        var values: [String: String] = [:]
        for part in parts.dropFirst(2) {
            guard let equals = part.firstIndex(of: "=") else { throw Damage(description: "field without '='") }
            values[String(part[..<equals])] = unescape(part[part.index(after: equals)...])
        }
        func text(_ key: String) throws(Damage) -> String {
            guard let value = values[key] else { throw Damage(description: "missing \(key)") }
            return value
        }
        func int(_ key: String) throws(Damage) -> Int {
            guard let value = Int(try text(key)) else { throw Damage(description: "bad \(key)") }
            return value
        }
        func double(_ key: String) throws(Damage) -> Double {
            guard let value = Double(try text(key)), value.isFinite else { throw Damage(description: "bad \(key)") }
            return value
        }
        func attempt() throws(Damage) -> JournalRecord.Attempt {
            JournalRecord.Attempt(instance: try text("instance"), attempt: try int("attempt"), rank: try int("rank"),
                                  host: try text("host"), time: try double("time"), logs: values["logs"])
        }
        func list(_ key: String) throws(Damage) -> [String] {
            try text(key).split(separator: ",").map(String.init)
        }
        /// A success's lineage; absent in journals of older versions (then it counts as changed).
        func lineage() throws(Damage) -> SuccessLineage? {
            guard let definition = values["def"] else { return nil }
            guard let parsed = InstanceDefinition(text: definition) else { throw Damage(description: "bad def") }
            guard let stamp = UInt64(try text("stamp"), radix: 16), let inputs = UInt64(try text("inputs"), radix: 16) else {
                throw Damage(description: "bad stamp or inputs")
            }
            return SuccessLineage(definition: parsed, stamp: stamp, inputs: inputs)
        }
        switch parts[1] {
        case "run":
            return .runStarted(.init(id: values["id"] ?? "", jobHash: try text("job"), host: try text("host"), pid: try int("pid"),
                                     ranks: try int("ranks"), time: try double("time"),
                                     only: values["only"].map(Self.list) ?? [], subjects: values["subjects"].map(Self.list) ?? []))
        case "start":
            return .started(try attempt())
        case "end":
            return .finished(try attempt(), .init(
                outcome: try outcome(try text("outcome")), wallSeconds: try double("wall"),
                peakMemoryKiB: try int("peakKiB"), lineage: try lineage()))
        case "force":
            return .forced(ForceRequest(stages: try list("stages"), only: try list("only"), subjects: try list("subjects"),
                                        id: values["id"]),
                           time: try double("time"))
        case "skip":
            return .skipped(instance: try text("instance"), cause: try text("cause"), time: try double("time"))
        case "drain":
            return .drained(rank: try int("rank"), host: try text("host"), reason: try text("reason"), time: try double("time"))
        case "stop":
            return .runEnded(reason: try text("reason"), time: try double("time"))
        default:
            throw Damage(description: "unknown record kind \(parts[1])")
        }
    }

    private static func attemptFields(_ attempt: JournalRecord.Attempt) -> [(String, String)] {
        [("instance", attempt.instance), ("attempt", String(attempt.attempt)), ("rank", String(attempt.rank)),
         ("host", attempt.host), ("time", timeText(attempt.time))]
    }

    private static func outcomeText(_ outcome: AttemptOutcome) -> String {
        switch outcome {
        case .succeeded: "ok"
        case .exited(let code): "exit:\(code)"
        case .signaled(let signal): "signal:\(signal)"
        case .timedOut: "timeout"
        case .couldNotStart(let reason): "nostart:\(reason)"
        case .interrupted, .lost: "interrupted"
        }
    }

    private static func outcome(_ text: String) throws(Damage) -> AttemptOutcome {
        if text == "ok" { return .succeeded }
        if text == "timeout" { return .timedOut }
        if text == "interrupted" { return .interrupted }
        if text.hasPrefix("exit:"), let code = Int32(text.dropFirst(5)), code != 0 { return .exited(code) }
        if text.hasPrefix("signal:"), let signal = Int32(text.dropFirst(7)) { return .signaled(signal) }
        if text.hasPrefix("nostart:") { return .couldNotStart(String(text.dropFirst(8))) }
        throw Damage(description: "bad outcome \(text)")
    }

    /// Seconds with microseconds, the same text on every platform.
    static func timeText(_ value: Double) -> String {
        let micros = Int64((value * 1_000_000).rounded())
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    /// A comma-separated field as its items.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\t": out += "%09"
            case "\n": out += "%0A"
            case "\r": out += "%0D"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
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

/// CRC-32 (IEEE), table-driven.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
