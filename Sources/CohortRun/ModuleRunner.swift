public import CohortCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs modules as child processes and collects how they ended.
///
/// Each module runs as `cohort-supervise … /bin/sh -c COMMAND`, or
/// `cohort-supervise … PROGRAM ARGS` when the line needs no shell
/// (`DirectCommand`; see that
/// program: nothing a module starts outlives it, and it measures the module
/// tree's peak memory), spawned with `posix_spawn` and reaped with
/// non-blocking `waitpid`. `Process.waitUntilExit()` costs ~27 ms per task
/// (NOTES-MPI), so Foundation's `Process` is not used.
public final class ModuleRunner {
    private struct Running {
        var order: TaskOrder
        var started: Double
        /// When the attempt must be stopped (its stage's timeout), if ever.
        var deadline: Double?
        var timedOut = false
        /// Where its supervisor writes the module tree's peak memory (a pipe).
        var usage: Int32
    }

    private let supervisorPath: String
    private let rank: Int
    private let baseEnvironment: [String: String]
    private let host = Machine.hostName
    private var running: [pid_t: Running] = [:]
    private var exitsSeen: UInt64 = .max
    private var lastScan = 0.0
    /// Seconds a stopped module gets between SIGTERM and SIGKILL.
    public var gracePeriod = 5
    /// For benchmarks (`--noop-modules`): every order succeeds at once, with
    /// no folder and no process.
    public var runsNothing = false

    public init(supervisorPath: String, rank: Int) {
        self.supervisorPath = supervisorPath
        self.rank = rank
        // Not the MPI launcher's variables: a module may run its own mpirun.
        self.baseEnvironment = ModuleEnvironment.cleaned(currentEnvironment())
        ChildExitCounter.install()
    }

    public var runningCount: Int { running.count }

    /// Starts `order`; when it cannot start (or runs nothing), returns the report at once.
    public func start(_ order: TaskOrder) -> TaskReport? {
        if runsNothing {
            return TaskReport(instance: order.instance, outcome: .succeeded, wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
        }
        let started = monotonicSeconds()
        if let problem = AttemptFolders.prepare(order) {
            return TaskReport(instance: order.instance, outcome: .couldNotStart(problem), wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
        }
        var environment = baseEnvironment
        for variable in order.environment { environment[variable.name] = variable.value }
        environment["COHORT_RANK"] = String(rank)
        environment["COHORT_HOST"] = host
        let logs = LogPaths(folder: order.attemptFolder)
        // A line of plain words runs as its program; anything else through the shell.
        let program = DirectCommand.words(of: order.command, environment: environment) ?? ["/bin/sh", "-c", order.command]
        // The peak memory comes back through a pipe (descriptor 3 of the supervisor): no file per attempt.
        var usage: [Int32] = [-1, -1]
        guard pipe(&usage) == 0 else {
            return TaskReport(instance: order.instance, outcome: .couldNotStart("cannot make a pipe: \(errnoText())"),
                              wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
        }
        defer { close(usage[1]) }
        // Neither end to any other child (the supervisor gets the write end as its descriptor 3).
        for end in usage { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(usage[0], F_SETFL, O_NONBLOCK)
        let arguments = [supervisorPath, String(getpid()), String(gracePeriod), order.directory, "fd:3"] + program
        do {
            let pid = try Spawn.start(arguments, environment: environment, stdout: logs.stdout, stderr: logs.stderr,
                                      descriptor3: usage[1])
            let deadline = order.timeoutSeconds > 0 ? started + order.timeoutSeconds : nil
            running[pid] = Running(order: order, started: started, deadline: deadline, usage: usage[0])
            return nil
        } catch {
            close(usage[0])
            return TaskReport(instance: order.instance, outcome: .couldNotStart(error.description), wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
        }
    }

    /// Reports of every module that ended since the last call; never blocks.
    ///
    /// Reaps only its own children, by pid (`waitpid(-1)` would steal other
    /// children's statuses), and only after a SIGCHLD, or every 100 ms in
    /// case the signal went to a thread that blocks it.
    public func reapFinished() -> [TaskReport] {
        guard !running.isEmpty else { return [] }
        let now = monotonicSeconds()
        stopOverdue(now: now)
        let exits = ChildExitCounter.value
        guard exits != exitsSeen || now - lastScan > 0.1 else { return [] }
        exitsSeen = exits
        lastScan = now
        var reports: [TaskReport] = []
        for pid in Array(running.keys) {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid, let module = running.removeValue(forKey: pid) else { continue }
            let outcome: AttemptOutcome = module.timedOut ? .timedOut
                : exitedNormally(status) ? AttemptOutcome(exitStatus: exitCode(status)) : .signaled(termSignal(status))
            let tail = outcome.succeeded ? "" : LogPaths(folder: module.order.attemptFolder).failureTail()
            if !outcome.succeeded { RerunScript.write(for: module.order, rank: rank, host: host) }
            reports.append(TaskReport(
                instance: module.order.instance, outcome: outcome,
                wallSeconds: monotonicSeconds() - module.started,
                peakMemoryKiB: Self.peakMemoryKiB(reading: module.usage) ?? 0, logTail: tail))
        }
        return reports
    }

    /// The module tree's peak memory as its supervisor wrote it to `pipe`
    /// before it ended (closes the pipe); nil if it could not (killed first).
    /// The worker's own view, wait4's maximum, would count the worker's
    /// memory before the supervisor's exec.
    static func peakMemoryKiB(reading pipe: Int32) -> Int? {
        defer { close(pipe) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(pipe, &buffer, buffer.count)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("peak_rss_kib ") }) else { return nil }
        return Int(line.dropFirst("peak_rss_kib ".count))
    }

    /// Asks every running module to stop (SIGTERM to its supervisor, which
    /// escalates to SIGKILL after the grace period).
    public func terminateAll() {
        for pid in running.keys { kill(pid, SIGTERM) }
    }

    /// Stops every running module at once (SIGKILL, no grace): the user asked twice.
    public func killAllNow() {
        for pid in running.keys { kill(pid, SIGUSR1) }
    }

    /// Stops attempts that ran past their deadline; they end as `.timedOut`.
    private func stopOverdue(now: Double) {
        for (pid, module) in running where !module.timedOut {
            if let deadline = module.deadline, now >= deadline {
                running[pid]?.timedOut = true
                kill(pid, SIGTERM)
            }
        }
    }
}

/// Where an attempt's output goes, inside its attempt folder.
struct LogPaths {
    var folder: String
    var stdout: String { folder + "/stdout.log" }
    var stderr: String { folder + "/stderr.log" }

    /// The last lines of stderr, else of stdout: what a user needs to see first.
    func failureTail(lines: Int = 5, maxBytes: Int = 16384) -> String {
        for path in [stderr, stdout] {
            var text = readTail(path, maxBytes: maxBytes)
            // Read from the middle of the file: its first line is a piece of
            // one; dropped when whole lines follow, else marked.
            if text.utf8.count >= maxBytes {
                let body = text.hasSuffix("\n") ? text.dropLast() : Substring(text)
                if let newline = body.firstIndex(of: "\n") {
                    text = String(body[body.index(after: newline)...])
                } else {
                    text = "… " + body
                }
            }
            let kept = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines)
            if !kept.isEmpty { return kept.joined(separator: "\n") }
        }
        return ""
    }
}

/// The last `maxBytes` of a file as text ("" when unreadable).
func readTail(_ path: String, maxBytes: Int) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    let end = lseek(fd, 0, SEEK_END)
    guard end > 0 else { return "" }
    let start = max(0, end - off_t(maxBytes))
    var buffer = [UInt8](repeating: 0, count: Int(end - start))
    let count = pread(fd, &buffer, buffer.count, start)
    guard count > 0 else { return "" }
    return String(decoding: buffer[0..<count], as: UTF8.self)
}

public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

// The wait-status macros are not imported into Swift.
func exitedNormally(_ status: Int32) -> Bool { status & 0x7f == 0 }
func exitCode(_ status: Int32) -> Int32 { (status >> 8) & 0xff }
func termSignal(_ status: Int32) -> Int32 { status & 0x7f }

/// Counts SIGCHLD deliveries, so reaping scans children only when one ended.
enum ChildExitCounter {
    private static let count = Atomic<UInt64>(0)
    private static let installed = Mutex(false)

    static var value: UInt64 { count.load(ordering: .acquiring) }

    /// Installs the SIGCHLD handler once per process (SA_RESTART: no EINTR surprises).
    static func install() {
        installed.withLock { done in
            guard !done else { return }
            done = true
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in ChildExitCounter.count.add(1, ordering: .releasing) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART | SA_NOCLDSTOP
            sigaction(SIGCHLD, &action, nil)
        }
    }
}
