#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `cohort` binary under a real `mpirun`, as users do.
///
/// The binaries are found beside the test bundle (`swift test` builds every
/// product); tests never start a nested `swift build`.
public enum MPIHarness {
    /// Folder of the running test executable, where SwiftPM puts the products.
    public static var binaryFolder: String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink("/proc/self/exe", &buffer, 4096)
        let path = String(decoding: buffer[0..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    public static var cohort: String { binaryFolder + "/cohort" }

    /// Whether CI asked for every test to run (then a missing mpirun fails).
    public static var isCI: Bool { ProcessEnvironment.value("CI") == "true" }

    public static var mpirunAvailable: Bool {
        ProcessEnvironment.which("mpirun") != nil
    }

    /// MPI tests run when mpirun is here, and always under CI (where its absence is a failure).
    public static var shouldRun: Bool { mpirunAvailable || isCI }

    /// The mpirun command line for `ranks` ranks on this machine.
    public static func mpirunArguments(ranks: Int, _ arguments: [String]) -> [String] {
        ["mpirun", "-np", String(ranks), "--oversubscribe", "--bind-to", "none", "--stdin", "none", "-q", cohort] + arguments
    }

    /// Environment for mpirun: root allowed (CI runs as root), plus `extra`.
    public static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                           "OMPI_MCA_btl_vader_backing_directory": "/tmp"]
        for (name, value) in extra { environment[name] = value }
        return environment
    }

    public static func run(ranks: Int, _ arguments: [String], environment extra: [String: String] = [:],
                           timeout: Double = 120) throws -> ChildProcess.Result {
        try ChildProcess.run(mpirunArguments(ranks: ranks, arguments), environment: environment(extra), timeout: timeout)
    }

    public static func start(ranks: Int, _ arguments: [String], environment extra: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(mpirunArguments(ranks: ranks, arguments), environment: environment(extra))
    }

    /// A copy of `jobs/NAME` of the repository in a new temporary folder; returns the job file's path.
    public static func copyJob(_ name: String, repository: String) throws -> String {
        let folder = try TemporaryFolder.make(prefix: name)
        let copied = try ChildProcess.run(["cp", "-R", "\(repository)/jobs/\(name)/.", folder])
        guard copied.code == 0 else { throw ChildProcess.SpawnFailure(description: "copy failed: \(copied.output)") }
        _ = try ChildProcess.run(["rm", "-rf", "\(folder)/out", "\(folder)/.cohort"])
        return folder + "/job.yml"
    }

    /// Writes `text` as `job.yml` in a new temporary folder; returns its path.
    public static func writeJob(_ text: String) throws -> String {
        let folder = try TemporaryFolder.make(prefix: "job")
        Files.write(folder + "/job.yml", text)
        return folder + "/job.yml"
    }
}

/// Facts about processes, read from /proc.
public enum ProcessTable {
    /// Whether `pid` is a live process (not gone, not a zombie).
    public static func isAlive(_ pid: Int32) -> Bool {
        let stat = Files.read("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// The environment `pid` started with.
    public static func environment(of pid: Int32) -> [String: String] {
        var result: [String: String] = [:]
        for entry in Files.read("/proc/\(pid)/environ").split(separator: "\0") {
            if let equals = entry.firstIndex(of: "=") {
                result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
            }
        }
        return result
    }

    /// Parent of `pid`, if it exists.
    public static func parent(of pid: Int32) -> Int32? {
        fields(pid).flatMap { $0.count > 1 ? Int32($0[1]) : nil }
    }

    /// User + system CPU seconds `pid` has used.
    public static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let fields = fields(pid), fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Fields of /proc/pid/stat after the command name (state is field 0).
    private static func fields(_ pid: Int32) -> [Substring]? {
        let stat = Files.read("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// The processes of MPI rank `rank` of the `cohort run` of `job` (one,
    /// unless something is wrong), found by the rank mpirun gave them.
    public static func ranks(_ rank: Int, of job: String) -> [Int32] {
        processes(matching: ["/cohort", "run", job]).filter { environment(of: $0)["OMPI_COMM_WORLD_RANK"] == String(rank) }
    }

    /// Processes whose command line contains every one of `words`.
    public static func processes(matching words: [String]) -> [Int32] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name) else { continue }
            let commandLine = Files.read("/proc/\(pid)/cmdline").split(separator: "\0").joined(separator: " ")
            if words.allSatisfy({ commandLine.contains($0) }) { found.append(pid) }
        }
        return found
    }
}
