import CohortRun
#if canImport(Glibc)
public import Glibc
#endif

/// A process started by a test: output captured in files, waited for with
/// a deadline, killed (with its process group) if it overstays.
///
/// Spawned with `posix_spawn` and a clean signal mask: Swift Testing's
/// threads block SIGCHLD, which children would otherwise inherit (NOTES-YAML).
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let outputPath: String
    private let errorPath: String
    private var status: Int32?

    public struct Result: Sendable {
        /// Exit status, or 128 + signal when killed.
        public var code: Int32
        public var stdout: String
        public var stderr: String
        public var output: String { stdout + stderr }
    }

    public struct SpawnFailure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let scratch = try TemporaryFolder.make(prefix: "child")
        outputPath = scratch + "/stdout"
        errorPath = scratch + "/stderr"
        var merged = currentEnvironment()
        for (name, value) in environment { merged[name] = value }
        do {
            pid = try Spawn.start(arguments, environment: merged, stdout: outputPath, stderr: errorPath)
        } catch {
            throw SpawnFailure(description: error.description)
        }
    }

    /// Runs to the end (or `timeout` seconds, then killed) and returns the result.
    public static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) throws -> Result {
        let child = try ChildProcess(arguments, environment: environment)
        return child.wait(timeout: timeout)
    }

    /// Waits up to `timeout` seconds; then SIGTERM, and SIGKILL to its group.
    public func wait(timeout: Double) -> Result {
        let deadline = Clock.now + timeout
        while status == nil {
            if let ended = poll() {
                status = ended
                break
            }
            if Clock.now > deadline {
                kill(pid, SIGTERM)
                Clock.sleep(3)
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                waitpid(pid, &raw, 0)
                status = 128 + SIGKILL
                break
            }
            Clock.sleep(0.01)
        }
        return Result(code: status ?? -1, stdout: Files.read(outputPath), stderr: Files.read(errorPath))
    }

    /// The exit code if the process has ended, without waiting.
    public func poll() -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return status
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// What it has printed so far.
    public var outputSoFar: String { Files.read(outputPath) + Files.read(errorPath) }
}

public enum Clock {
    /// Seconds since the epoch (for times other programs read, such as Slurm's).
    public static var epoch: Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    public static var now: Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    public static func sleep(_ seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        nanosleep(&request, nil)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    public static func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = now + timeout
        while now < deadline {
            if condition() { return true }
            sleep(0.02)
        }
        return condition()
    }
}

public enum ProcessEnvironment {
    /// The program `name` found on the PATH, or nil.
    public static func which(_ name: String) -> String? {
        let candidates: [String] = (value("PATH") ?? "/usr/bin").split(separator: ":").map { "\($0)/\(name)" }
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// This machine's host name, as Cohort reports it.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
