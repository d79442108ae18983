import CohortCore
import CohortTesting
#if canImport(Glibc)
import Glibc
#endif

/// A small study on disk whose modules record what each result was made
/// from, so a test can tell from the files alone whether every result is
/// current: a (per subject) -> b (per subject) -> c (per study).
///
/// Each module writes `out.txt`: a version line unique to that execution,
/// the token of its `run` line, the checksum of its own script, and for
/// every input it read, the input's path and version line.
struct LineageStudy {
    let folder: String
    var job: String { folder + "/job.yml" }
    var ledger: String { folder + "/ledger.txt" }
    var subjects: [String]
    var tokens: [String: String] = ["a": "v1", "b": "v1", "c": "v1"]
    var cpus: [String: Int] = ["a": 1, "b": 1, "c": 1]
    static let stages = ["a", "b", "c"]

    init(subjects: [String] = ["s1", "s2", "s3"]) throws {
        folder = try TemporaryFolder.make(prefix: "lineage")
        self.subjects = subjects
        let module = """
            #!/bin/sh
            # TOKEN [INPUT...]: writes $COHORT_WORKDIR/out.txt
            set -eu
            token=$1; shift
            echo "begin $COHORT_INSTANCE" >> "$LEDGER"
            sleep "${DELAY:-0}"
            {
              echo "version $COHORT_INSTANCE $(date +%s%N) $$"
              echo "token $token"
              echo "script $(cksum < "$0")"
              for input in "$@"; do echo "input $input $(head -n 1 "$input")"; done
            } > "$COHORT_WORKDIR/out.tmp"
            mv "$COHORT_WORKDIR/out.tmp" "$COHORT_WORKDIR/out.txt"
            echo "end $COHORT_INSTANCE" >> "$LEDGER"

            """
        for stage in Self.stages { Files.write("\(folder)/modules/\(stage).sh", module) }
        writeJob()
    }

    func writeJob() {
        func cpus(_ stage: String) -> String { "cpus: \(self.cpus[stage] ?? 1)" }
        Files.write(job, """
            study: lineage
            subjects: [\(subjects.joined(separator: ", "))]
            stages:
              - {name: a, domain: subject, \(cpus("a")), run: "sh modules/a.sh \(tokens["a"]!)"}
              - {name: b, domain: subject, \(cpus("b")), run: "sh modules/b.sh \(tokens["b"]!) out/a/{subject}/out.txt"}
              - {name: c, domain: study, \(cpus("c")), run: "sh modules/c.sh \(tokens["c"]!) out/b/*/out.txt"}

            """)
    }

    func editScript(_ stage: String, _ note: String) {
        let path = "\(folder)/modules/\(stage).sh"
        Files.write(path, Files.read(path) + "# \(note)\n")
    }

    /// Instances whose module began, in order (from the modules' own ledger).
    func began() -> [String] {
        Files.read(ledger).split(separator: "\n").filter { $0.hasPrefix("begin ") }.map { String($0.dropFirst(6)) }
    }

    func ended() -> [String] {
        Files.read(ledger).split(separator: "\n").filter { $0.hasPrefix("end ") }.map { String($0.dropFirst(4)) }
    }

    var instances: [String] { subjects.map { "a:\($0)" } + subjects.map { "b:\($0)" } + ["c"] }

    func output(_ instance: String) -> String {
        let parts = instance.split(separator: ":")
        return "out/" + parts.joined(separator: "/") + "/out.txt"
    }

    /// The inputs the current job file says `instance` is made from.
    func expectedInputs(_ instance: String) -> Set<String> {
        let parts = instance.split(separator: ":").map(String.init)
        switch parts[0] {
        case "b": return [output("a:" + parts[1])]
        case "c": return Set(subjects.map { output("b:" + $0) })
        default: return []
        }
    }

    /// Why `instance`'s result is not what the job file and its inputs make
    /// now, from its own record on disk; nil when it is current.
    func staleness(_ instance: String) -> String? {
        let text = Files.read(folder + "/" + output(instance))
        guard !text.isEmpty else { return "no result" }
        let stage = String(instance.prefix { $0 != ":" })
        var inputs: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("token "), line.dropFirst(6) != tokens[stage]! { return "made with token \(line.dropFirst(6))" }
            if line.hasPrefix("script ") {
                let checksum = checksumOfScript(stage)
                if line.dropFirst(7) != checksum { return "made by an earlier \(stage).sh" }
            }
            if line.hasPrefix("input ") {
                let fields = line.dropFirst(6).split(separator: " ", maxSplits: 1).map(String.init)
                inputs.insert(fields[0])
                let current = Files.read(folder + "/" + fields[0]).split(separator: "\n").first.map(String.init) ?? ""
                if fields.count < 2 || fields[1] != current { return "made from an older \(fields[0])" }
            }
        }
        if inputs != expectedInputs(instance) { return "made from \(inputs.sorted()), not \(expectedInputs(instance).sorted())" }
        return nil
    }

    func checksumOfScript(_ stage: String) -> String {
        let result = try? ChildProcess.run(["sh", "-c", "cksum < '\(folder)/modules/\(stage).sh'"])
        return String((result?.stdout ?? "").split(separator: "\n").first ?? "")
    }

    /// Instances whose result is current and whose success the journal
    /// holds: a run must not redo them. Current only if every input is too.
    func currentAndRecorded() -> Set<String> {
        let history = JournalHistory(text: Files.read(folder + "/.cohort/lineage/journal"))
        var current: Set<String> = []
        for instance in instances {
            let upstreamCurrent = expectedInputs(instance).allSatisfy { path in
                instances.contains { output($0) == path && current.contains($0) }
            }
            if upstreamCurrent, history[instance]?.success != nil, staleness(instance) == nil { current.insert(instance) }
        }
        return current
    }

    /// Every instance of the current job whose result is out of date, with why.
    func staleResults() -> [String: String] {
        var stale: [String: String] = [:]
        for instance in instances { if let why = staleness(instance) { stale[instance] = why } }
        return stale
    }
}
