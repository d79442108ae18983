/// A short, stable hash of what defines an instance's result: its `run`
/// line with the instance's own names, the `setup` snippets, the job's
/// environment, its domain and resources. When it changes, the instance's earlier success no longer counts.
///
/// The template and the names are hashed rather than the substituted line,
/// so that moving the job's folder (which changes `{workdir}`) reruns nothing.
public enum Fingerprint {
    public static func of(_ instance: InstanceID, in graph: InstanceGraph) -> String {
        let stage = graph.job.stages[graph.stage(of: instance)]
        let labels = graph.labels(of: instance)
        var hasher = FNV1a()
        for field in [stage.command, graph.job.setup ?? "", stage.setup ?? "", graph.job.study, labels.subject,
                      labels.session, stage.domain.rawValue, String(stage.cpus), String(stage.memory)] {
            hasher.add(field)
        }
        for variable in graph.job.environment {
            hasher.add(variable.name)
            hasher.add(variable.value)
        }
        return hasher.hex
    }

    /// The hash of a job file's text, recorded with each run.
    public static func of(text: String) -> String {
        var hasher = FNV1a()
        hasher.add(text)
        return hasher.hex
    }
}

/// 64-bit FNV-1a; fields are length-prefixed so that ("ab","c") != ("a","bc").
struct FNV1a {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        let bytes = Array(text.utf8)
        var length = UInt64(bytes.count)
        for _ in 0..<8 {
            addByte(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        for byte in bytes { addByte(byte) }
    }

    private mutating func addByte(_ byte: UInt8) {
        state ^= UInt64(byte)
        state = state &* 0x0000_0100_0000_01b3
    }

    var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
