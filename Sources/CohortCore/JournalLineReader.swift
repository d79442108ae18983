/// Decodes journal records from the bytes of their lines (the format is
/// `JournalFormat`'s), without slicing strings: reading the journal is most
/// of what `status`, `plan` and a resumed `run` spend on a large study, so a
/// field costs one scan, a number is read from its digits, and a string is
/// made only for the values a record keeps.
///
/// Keeps its scratch space between lines: make one per journal read.
struct JournalLineReader {
    private typealias Damage = JournalFormat.Damage
    /// Where each known key's value lies in the current line (start, end); unknown keys are ignored.
    private var spans: [(start: Int, end: Int)]
    private var line = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    private enum Key: Int, CaseIterable {
        case id, job, host, pid, ranks, time, only, subjects, instance, attempt, rank, logs
        case outcome, wall, peakKiB, def, stamp, inputs, stages, cause, reason, cpus, memory
        case source, new, changed, gone, items, watching, added, removed, also

        /// The key spelled by `bytes`, if it is one this version reads.
        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let key = Key.bySignature[Key.signature(bytes)], Key.spellings[key.rawValue].elementsEqual(bytes) else { return nil }
            self = key
        }

        var name: String { String(describing: self) }

        private static let spellings: [[UInt8]] = allCases.map { Array($0.name.utf8) }
        private static let bySignature: [UInt32: Key] = Dictionary(
            uniqueKeysWithValues: allCases.map { key in (signature(spellings[key.rawValue]), key) })

        /// Length and first two bytes: distinct for every key above.
        private static func signature<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> UInt32 where Bytes.Index == Int {
            guard bytes.count >= 2 else { return UInt32(bytes.count) }
            return UInt32(bytes.count) << 16 | UInt32(bytes[bytes.startIndex]) << 8 | UInt32(bytes[bytes.startIndex + 1])
        }
    }

    init() {
        spans = Array(repeating: (-1, -1), count: Key.allCases.count)
    }

    /// The record on `line` (no newline), or why it is not one.
    mutating func decode(_ line: UnsafeBufferPointer<UInt8>) throws(JournalFormat.Damage) -> JournalRecord {
        self.line = line
        for index in spans.indices { spans[index] = (-1, -1) }
        // `… <TAB> #crc32`: the checksum covers everything before the last tab.
        guard let tab = lastIndex(of: 9, before: line.count), tab + 1 < line.count, line[tab + 1] == UInt8(ascii: "#") else {
            throw Damage(description: "no checksum")
        }
        guard line.count - tab - 2 == 8, let stored = hexValue(tab + 2, line.count, lowercaseOnly: true),
              stored == UInt64(CRC32.checksum(slice(0, tab))) else {
            throw Damage(description: "checksum mismatch")
        }
        // cohort1 <TAB> kind <TAB> key=value ...
        let magic = JournalFormat.magic.utf8
        guard tab > magic.count, magic.elementsEqual(slice(0, magic.count)), line[magic.count] == 9 else {
            throw Damage(description: "not a cohort1 record")
        }
        let kindStart = magic.count + 1
        var cursor = kindStart
        while cursor < tab && line[cursor] != 9 { cursor += 1 }
        let kindEnd = cursor
        while cursor < tab {
            let start = cursor + 1
            var end = start
            var equals = -1
            while end < tab && line[end] != 9 {
                if equals < 0 && line[end] == UInt8(ascii: "=") { equals = end }
                end += 1
            }
            guard equals >= 0 else { throw Damage(description: "field without '='") }
            if let key = Key(slice(start, equals)) { spans[key.rawValue] = (equals + 1, end) }
            cursor = end
        }
        return try record(kind: slice(kindStart, kindEnd))
    }

    private mutating func record(kind: UnsafeBufferPointer<UInt8>) throws(Damage) -> JournalRecord {
        switch String(decoding: kind, as: UTF8.self) {
        case "start":
            var attempt = try attempt()
            attempt.alsoRanks = optionalText(.also).map { JournalFormat.list($0).compactMap { Int($0) } } ?? []
            return .started(attempt)
        case "end":
            return .finished(try attempt(), .init(
                outcome: try outcome(), wallSeconds: try double(.wall), peakMemoryKiB: try int(.peakKiB), lineage: try lineage()))
        case "run":
            return .runStarted(.init(id: optionalText(.id) ?? "", jobHash: try text(.job), host: try text(.host), pid: try int(.pid),
                                     ranks: try int(.ranks), time: try double(.time),
                                     only: optionalText(.only).map(JournalFormat.list) ?? [],
                                     subjects: optionalText(.subjects).map(JournalFormat.list) ?? []))
        case "force":
            return .forced(ForceRequest(stages: JournalFormat.list(try text(.stages)), only: JournalFormat.list(try text(.only)),
                                        subjects: JournalFormat.list(try text(.subjects)), id: optionalText(.id)),
                           time: try double(.time))
        case "skip":
            return .skipped(instance: try text(.instance), cause: try text(.cause), time: try double(.time))
        case "drain":
            return .drained(rank: try int(.rank), host: try text(.host), reason: try text(.reason), time: try double(.time))
        case "stop":
            return .runEnded(reason: try text(.reason), time: try double(.time))
        case "join":
            return .workerJoined(rank: try int(.rank), host: try text(.host), cpus: try int(.cpus), memory: Int64(try int(.memory)),
                                 time: try double(.time))
        case "items":
            let listed = try text(.items)
            return .itemsListed(instance: try text(.instance), attempt: try int(.attempt),
                                items: listed.isEmpty ? [] : listed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                                time: try double(.time), watching: optionalText(.watching) == "yes")
        case "itemschange":
            func list(_ key: Key) throws(Damage) -> [String] {
                let text = try text(key)
                return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
            return .itemsChanged(instance: try text(.instance), attempt: try int(.attempt), added: try list(.added),
                                 removed: try list(.removed), time: try double(.time), watching: optionalText(.watching) == "yes")
        case "tree":
            func subjects(_ key: Key) throws(Damage) -> [Subject] {
                try text(key).split(separator: ",").map(StudyTreeChange.subject)
            }
            return .studyTree(StudyTreeChange(source: try text(.source), new: try subjects(.new), changed: try subjects(.changed),
                                              gone: JournalFormat.list(try text(.gone)), time: try double(.time)))
        case let other:
            throw Damage(description: "unknown record kind \(other)", isNewerKind: true)
        }
    }

    private func attempt() throws(Damage) -> JournalRecord.Attempt {
        JournalRecord.Attempt(instance: try text(.instance), attempt: try int(.attempt), rank: try int(.rank),
                              host: try text(.host), time: try double(.time), logs: optionalText(.logs))
    }

    /// A success's lineage; absent in journals of older versions (then it counts as changed).
    private func lineage() throws(Damage) -> SuccessLineage? {
        let span = spans[Key.def.rawValue]
        guard span.start >= 0 else { return nil }
        // Four 16-digit hex numbers joined by dots.
        guard span.end - span.start == 67 else { throw Damage(description: "bad def") }
        var parts: [UInt64] = []
        for part in 0..<4 {
            let start = span.start + part * 17
            guard part == 3 || line[start + 16] == UInt8(ascii: "."), let value = hexValue(start, start + 16) else {
                throw Damage(description: "bad def")
            }
            parts.append(value)
        }
        guard let stamp = hex(.stamp), let inputs = hex(.inputs) else { throw Damage(description: "bad stamp or inputs") }
        return SuccessLineage(definition: InstanceDefinition(run: parts[0], environment: parts[1], setup: parts[2], script: parts[3]),
                              stamp: stamp, inputs: inputs)
    }

    private func outcome() throws(Damage) -> AttemptOutcome {
        let span = spans[Key.outcome.rawValue]
        guard span.start >= 0 else { throw Damage(description: "missing outcome") }
        if span.end - span.start == 2 && line[span.start] == UInt8(ascii: "o") && line[span.start + 1] == UInt8(ascii: "k") {
            return .succeeded
        }
        let text = try text(.outcome)
        if text == "timeout" { return .timedOut }
        if text == "interrupted" { return .interrupted }
        if text.hasPrefix("exit:"), let code = Int32(text.dropFirst(5)), code != 0 { return .exited(code) }
        if text.hasPrefix("signal:"), let signal = Int32(text.dropFirst(7)) { return .signaled(signal) }
        if text.hasPrefix("nostart:") { return .couldNotStart(String(text.dropFirst(8))) }
        if text.hasPrefix("items:") { return .badItems(String(text.dropFirst(6))) }
        throw Damage(description: "bad outcome \(text)")
    }

    // MARK: values

    private func optionalText(_ key: Key) -> String? {
        let span = spans[key.rawValue]
        guard span.start >= 0 else { return nil }
        let bytes = slice(span.start, span.end)
        if !bytes.contains(UInt8(ascii: "%")) { return String(decoding: bytes, as: UTF8.self) }
        return JournalFormat.unescape(Substring(String(decoding: bytes, as: UTF8.self)))
    }

    private func text(_ key: Key) throws(Damage) -> String {
        guard let value = optionalText(key) else { throw Damage(description: "missing \(key.name)") }
        return value
    }

    private func int(_ key: Key) throws(Damage) -> Int {
        let span = spans[key.rawValue]
        guard span.start >= 0 else { throw Damage(description: "missing \(key.name)") }
        var index = span.start
        let negative = index < span.end && line[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < span.end, span.end - index <= 18 else { throw Damage(description: "bad \(key.name)") }
        var value = 0
        while index < span.end {
            let digit = Int(line[index]) - 48
            guard digit >= 0 && digit <= 9 else { throw Damage(description: "bad \(key.name)") }
            value = value * 10 + digit
            index += 1
        }
        return negative ? -value : value
    }

    /// Seconds as `RecordLine.time` writes them (`[-]digits.6digits`)
    /// read exactly: the micros are an exact integer, so one division gives
    /// the double nearest the text, as `Double(String)` does. Any other
    /// spelling goes the slow way.
    private func double(_ key: Key) throws(Damage) -> Double {
        let span = spans[key.rawValue]
        guard span.start >= 0 else { throw Damage(description: "missing \(key.name)") }
        var index = span.start
        let negative = index < span.end && line[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var micros: Int64 = 0
        var digits = 0
        var fraction = -1
        while index < span.end {
            let byte = line[index]
            if byte == UInt8(ascii: ".") && fraction < 0 {
                fraction = 0
            } else if byte >= 48 && byte <= 57 {
                micros = micros &* 10 &+ Int64(byte - 48)
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else {
                break
            }
            index += 1
        }
        // Up to 16 digits (epoch seconds and micros) while the micros are exact in a double.
        if index == span.end && fraction == 6 && digits <= 16 && digits > 6 && micros < 1 << 53 {
            return Double(negative ? -micros : micros) / 1_000_000
        }
        guard let value = Double(String(decoding: slice(span.start, span.end), as: UTF8.self)), value.isFinite else {
            throw Damage(description: "bad \(key.name)")
        }
        return value
    }

    private func hex(_ key: Key) -> UInt64? {
        let span = spans[key.rawValue]
        guard span.start >= 0, span.end > span.start, span.end - span.start <= 16 else { return nil }
        return hexValue(span.start, span.end)
    }

    private func hexValue(_ start: Int, _ end: Int, lowercaseOnly: Bool = false) -> UInt64? {
        var value: UInt64 = 0
        for index in start..<end {
            let byte = line[index]
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48
            case 97...102: digit = byte - 87
            case 65...70 where !lowercaseOnly: digit = byte - 55
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    private func slice(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: line[start..<end])
    }

    private func lastIndex(of byte: UInt8, before end: Int) -> Int? {
        var index = end - 1
        while index >= 0 {
            if line[index] == byte { return index }
            index -= 1
        }
        return nil
    }
}
