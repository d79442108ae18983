public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs modules as child processes and collects how they ended.
///
/// Each module runs under a supervisor that this worker's launcher
/// (`cohort-supervise --serve`, one per worker, see `ModuleLauncher`) forks
/// for it: as `/bin/sh -c COMMAND`, or as `PROGRAM ARGS` when the line
/// needs no shell (`DirectCommand`). Nothing a module starts outlives it,
/// its logs are made only when it prints, and its supervisor measures the
/// module tree's peak memory (see cohort-supervise's module.c).
public final class ModuleRunner {
    private struct Running {
        var order: TaskOrder
        var started: Double
        /// When the attempt must be stopped (its stage's timeout), if ever.
        var deadline: Double?
        var timedOut = false
    }

    private let launcher: ModuleLauncher
    /// What every module inherits: this process's environment without mpirun's variables.
    private let baseEnvironment: [String: String]
    private let rank: Int
    private let host = Machine.hostName
    /// `COHORT_RANK` and `COHORT_HOST`: the same for every module of this worker.
    private let whereItRuns: [EnvironmentVariable]
    private var running: [UInt64: Running] = [:]
    private var nextRequest: UInt64 = 1
    /// Seconds a stopped module gets between SIGTERM and SIGKILL.
    public var gracePeriod = 5
    /// For benchmarks (`--noop-modules`): every order succeeds at once, with
    /// no folder and no process.
    public var runsNothing = false

    public init(supervisorPath: String, rank: Int) {
        self.rank = rank
        whereItRuns = [.init(name: "COHORT_RANK", value: String(rank)), .init(name: "COHORT_HOST", value: host)]
        // Not the MPI launcher's variables: a module may run its own mpirun.
        self.baseEnvironment = ModuleEnvironment.cleaned(currentEnvironment())
        self.launcher = ModuleLauncher(path: supervisorPath, environment: baseEnvironment)
    }

    public var runningCount: Int { running.count }

    /// Inside Slurm, OpenMPI (4.x) takes each node's slots from the
    /// allocation (one task per node, as Cohort asks for), not from a
    /// multi-node module's hostfile, and refuses `-np` beyond them: this
    /// lets it place the hostfile's slots. Outside Slurm the hostfile's
    /// slots hold and asking for more is refused as usual.
    private var insideSlurm: Bool { baseEnvironment["SLURM_JOB_ID"] != nil }
    private static let slotsFromTheHostfile = [EnvironmentVariable(name: "OMPI_MCA_rmaps_base_oversubscribe", value: "1")]

    /// The cpus its running modules' stages ask for.
    var cpusInUse: Int { running.values.reduce(0) { $0 + $1.order.cpus } }

    /// Readable when a module has ended (nil while none runs): to wait on instead of sleeping.
    var reportDescriptor: Int32? { running.isEmpty ? nil : launcher.reportDescriptor }

    /// Starts `order`; when it cannot start (or runs nothing), returns the report at once.
    public func start(_ order: TaskOrder) -> TaskReport? {
        if runsNothing {
            var report = TaskReport(instance: order.instance, outcome: .succeeded, wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
            if order.itemsFile != nil { report.items = [] }
            return report
        }
        let started = monotonicSeconds()
        let preparation = AttemptFolders.prepare(order)
        if case .failed(let problem) = preparation {
            return TaskReport(instance: order.instance, outcome: .couldNotStart(problem), wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
        }
        let added = [order.stageEnvironment, order.instanceEnvironment, whereItRuns,
                     order.hostfile != nil && insideSlurm ? Self.slotsFromTheHostfile : []].joined()
        // A line of plain words runs as its program; anything else through the shell.
        var environment = baseEnvironment
        for variable in added where variable.name.hasPrefix("BASH_FUNC_") { environment[variable.name] = variable.value }
        let program = DirectCommand.words(of: order.command, environment: environment) ?? ["/bin/sh", "-c", order.command]
        let id = nextRequest
        nextRequest += 1
        do {
            try launcher.run(id, frame: LauncherProtocol.runFrame(
                id: id, graceSeconds: gracePeriod, directory: order.directory, logFolder: order.attemptFolder,
                folderToMake: preparation == .folderToMake ? order.instanceFolder : nil, arguments: program, environment: added))
        } catch {
            return TaskReport(instance: order.instance, outcome: .couldNotStart(error.description), wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
        }
        let deadline = order.timeoutSeconds > 0 ? started + order.timeoutSeconds : nil
        running[id] = Running(order: order, started: started, deadline: deadline)
        return nil
    }

    /// Reports of every module that ended since the last call; never blocks.
    public func reapFinished() -> [TaskReport] {
        guard !running.isEmpty else { return [] }
        stopOverdue(now: monotonicSeconds())
        let (ended, unreported) = launcher.takeReports()
        var reports: [TaskReport] = []
        for report in ended {
            guard let module = running.removeValue(forKey: report.id) else { continue }
            if report.folderError != 0 {
                reports.append(finished(module, outcome: .couldNotStart(
                    "cannot create folder \(module.order.instanceFolder): \(errnoText(report.folderError))"), peakMemoryKiB: 0))
                continue
            }
            reports.append(finished(module, outcome: module.timedOut ? .timedOut : report.outcome,
                                    peakMemoryKiB: report.peakMemoryKiB ?? 0, logError: report.logError))
        }
        for id in unreported {
            guard let module = running.removeValue(forKey: id) else { continue }
            reports.append(finished(module, outcome: .couldNotStart("its launcher and supervisor (cohort-supervise) died without a report"),
                                    peakMemoryKiB: 0))
        }
        return reports
    }

    private func finished(_ module: Running, outcome: AttemptOutcome, peakMemoryKiB: Int, logError: Int32 = 0) -> TaskReport {
        var outcome = outcome
        var items: [String]?
        if outcome.succeeded, let file = module.order.itemsFile {
            // A generator's success counts only with a list that can be used.
            switch Self.readItems(file) {
            case .success(let listed): items = listed
            case .failure(let problem): outcome = .badItems(problem.description)
            }
        }
        var tail = outcome.succeeded ? "" : LogPaths(folder: module.order.attemptFolder).failureTail()
        if !outcome.succeeded && logError != 0 {
            tail += (tail.isEmpty ? "" : "\n") + "cohort: its logs could not be written in \(module.order.attemptFolder): \(errnoText(logError))"
        }
        if !outcome.succeeded { RerunScript.write(for: module.order, rank: rank, host: host) }
        var report = TaskReport(instance: module.order.instance, outcome: outcome, wallSeconds: monotonicSeconds() - module.started,
                                peakMemoryKiB: peakMemoryKiB, logTail: tail)
        report.items = items
        return report
    }

    /// The items a generator wrote to `file` (its `$COHORT_ITEMS`).
    static func readItems(_ file: String) -> Result<[String], ItemList.Problem> {
        guard access(file, F_OK) == 0 else {
            return .failure(ItemList.Problem(line: 0, message: "the module wrote no list to \(file) (write nothing to it when there are no items)"))
        }
        do {
            return ItemList.items(in: try JobFileReader.readText(file, limit: 256 << 20, kind: "item lists"))
        } catch {
            return .failure(ItemList.Problem(line: 0, message: error.problems.first.map { "\(file): \($0.message)" } ?? "cannot read \(file)"))
        }
    }

    /// Asks every running module to stop (SIGTERM to its tree, SIGKILL after the grace period).
    public func terminateAll() {
        for id in running.keys { launcher.stop(id, now: false) }
    }

    /// Stops every running module at once (SIGKILL, no grace): the user asked twice.
    public func killAllNow() {
        for id in running.keys { launcher.stop(id, now: true) }
    }

    /// Stops attempts that ran past their deadline; they end as `.timedOut`.
    private func stopOverdue(now: Double) {
        for (id, module) in running where !module.timedOut {
            if let deadline = module.deadline, now >= deadline {
                running[id]?.timedOut = true
                launcher.stop(id, now: false)
            }
        }
    }
}

/// Where an attempt's output goes, inside its attempt folder. A log is
/// made with its first byte: a module that prints nothing leaves none.
struct LogPaths {
    var folder: String
    var stdout: String { folder + "/stdout.log" }
    var stderr: String { folder + "/stderr.log" }

    /// The logs of `folder` that exist, for a summary line:
    /// `F/stderr.log, stdout.log`, `F/stdout.log`, or that there are none.
    static func described(_ folder: String) -> String {
        let logs = LogPaths(folder: folder)
        switch (access(logs.stderr, F_OK) == 0, access(logs.stdout, F_OK) == 0) {
        case (true, true): return "\(logs.stderr), stdout.log"
        case (true, false): return logs.stderr
        case (false, true): return logs.stdout
        case (false, false): return "none found (a module that prints nothing leaves none)"
        }
    }

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
