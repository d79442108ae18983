import CohortCore

/// The worker's side of the pipe protocol with its launcher
/// (`cohort-supervise --serve`, see its launcher.c): requests as frames,
/// reports as lines. Pure: no process, no descriptor.
enum LauncherProtocol {
    /// Run `arguments` (found on the module's PATH when the first has no
    /// slash) in `directory`, with `environment` added to the launcher's
    /// own, its logs made in `logFolder` on the first byte, after making
    /// `folderToMake` (which must not exist yet) when there is one.
    static func runFrame(
        id: UInt64, graceSeconds: Int, directory: String, logFolder: String, folderToMake: String? = nil,
        arguments: [String], environment: some Sequence<EnvironmentVariable>
    ) -> [UInt8] {
        // Written as bytes: a worker sends one per module, thousands a second.
        var frame = FrameWriter(kind: "R")
        for field in [String(id), String(graceSeconds), directory, logFolder, folderToMake ?? "", String(arguments.count)] {
            frame.field(field)
        }
        for argument in arguments { frame.field(argument) }
        for variable in environment { frame.field(variable.name, equals: variable.value) }
        return frame.finished()
    }

    /// Stop the module: SIGTERM to its tree, SIGKILL after the grace period; `now`: SIGKILL at once.
    static func stopFrame(id: UInt64, now: Bool) -> [UInt8] {
        frame(kind: now ? "K" : "T", fields: [String(id)])
    }

    /// A 4-byte little-endian length, the kind, then each field and a NUL.
    /// A field is cut at a NUL of its own (C would read no further anyway),
    /// so no field can shift the ones after it.
    static func frame(kind: Character, fields: [String]) -> [UInt8] {
        var frame = FrameWriter(kind: kind)
        for field in fields { frame.field(field) }
        return frame.finished()
    }

    /// A frame being written: room for its length, its kind, then fields.
    private struct FrameWriter {
        private var bytes: [UInt8] = [0, 0, 0, 0]

        init(kind: Character) {
            bytes.append(contentsOf: String(kind).utf8)
        }

        /// One field, cut at its first NUL.
        mutating func field(_ text: String) {
            _ = append(text)
            bytes.append(0)
        }

        /// `name=value` as one field, cut at its first NUL.
        mutating func field(_ name: String, equals value: String) {
            if append(name) {
                bytes.append(UInt8(ascii: "="))
                _ = append(value)
            }
            bytes.append(0)
        }

        /// Appends `text` up to its first NUL; false when it had one.
        private mutating func append(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { utf8 in
                let end = utf8.firstIndex(of: 0) ?? utf8.count
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<end]))
                return end == utf8.count
            }
        }

        /// The frame, its length (of what follows it) written in front, little-endian.
        mutating func finished() -> [UInt8] {
            let length = UInt32(bytes.count - 4)
            for index in 0..<4 { bytes[index] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))) }
            return bytes
        }
    }

    /// How one module ended, as its launcher reported it.
    struct Report: Equatable {
        var id: UInt64
        var outcome: AttemptOutcome
        /// The module tree's peak memory; nil when its supervisor was killed before it could say.
        var peakMemoryKiB: Int?
        /// Why its logs could not be written (an errno), 0 when they could.
        var logError: Int32
        /// Why the folder it was to make could not be made (an errno; it did not run), 0 otherwise.
        var folderError: Int32 = 0
    }

    /// `ID exit CODE PEAK_KIB LOG_ERRNO`, `ID signal SIGNAL PEAK_KIB
    /// LOG_ERRNO`, `ID nostart ERRNO` (no supervisor could be made: no
    /// process, no descriptor left) or `ID nofolder ERRNO` (the folder to
    /// make could not be made: the module did not run); nil for anything else.
    static func report(parsing line: Substring) -> Report? {
        let words = line.split(separator: " ")
        if words.count == 3, let id = UInt64(words[0]), let error = Int32(words[2]) {
            switch words[1] {
            case "nostart":
                return Report(id: id, outcome: .couldNotStart("cannot start its supervisor: \(errnoText(error))"),
                              peakMemoryKiB: nil, logError: 0)
            case "nofolder":
                return Report(id: id, outcome: .couldNotStart("cannot create its folder: \(errnoText(error))"),
                              peakMemoryKiB: nil, logError: 0, folderError: error)
            default:
                return nil
            }
        }
        guard words.count == 5, let id = UInt64(words[0]), let number = Int32(words[2]),
              let peak = Int(words[3]), let logError = Int32(words[4]) else { return nil }
        let outcome: AttemptOutcome
        switch words[1] {
        case "exit": outcome = AttemptOutcome(exitStatus: number)
        case "signal": outcome = .signaled(number)
        default: return nil
        }
        return Report(id: id, outcome: outcome, peakMemoryKiB: peak >= 0 ? peak : nil, logError: logError)
    }
}
