public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// What a run shows on rank 0's stdout (DESIGN §6): on a terminal a block
/// redrawn in place with failures printed above it; in a batch log plain
/// lines only, never escape codes: each failure, a progress line at an
/// interval, one line per finished instance when asked (`lines`); then the
/// summary.
public final class PlainReporter: RunReporter {
    private let clock: () -> Double
    private var start = 0.0
    /// `auto` resolved: `block`, `periodic` or `lines`.
    let mode: ProgressMode
    /// Seconds between progress lines in a batch log.
    let interval: Double
    private var board = ProgressBoard()
    private var lastProgress = 0.0
    /// Lines of the block on screen now (0: none drawn).
    private var drawn = 0
    private var lastDraw = -1.0

    /// `--no-watch`: a watch's next look comes at its interval or as soon as
    /// nothing else is left, whichever is first (and is its last then).
    public var watchesEndWhenIdle = false

    public init(mode: ProgressMode = .lines, interval: Double = 30, clock: @escaping () -> Double = monotonicSeconds) {
        self.clock = clock
        self.interval = interval
        self.mode = mode == .auto ? (Self.onATerminal ? .block : .periodic) : mode
    }

    /// Whether the user watches a terminal. Under mpirun rank 0's stdout is
    /// whatever mpirun made it (often a pseudo-terminal, also for a batch
    /// job): there `COHORT_TERMINAL` decides (`mpirun.sh` sets it), else
    /// plain lines; without mpirun, whether stdout is a terminal.
    static var onATerminal: Bool {
        let environment = currentEnvironment()
        if let said = environment["COHORT_TERMINAL"] { return said == "1" }
        if environment["OMPI_COMM_WORLD_SIZE"] != nil { return false }
        return isatty(STDOUT_FILENO) == 1
    }

    private func stamp() -> String {
        "[\(pad(format(clock() - start, decimals: 2) + "s", 9))]"
    }

    public func runStarted(study: String, instances: Int, listsItems: Bool, workers: [WorkerInfo]) {
        start = clock()
        let described = workers.map { worker in
            let labels = worker.profile.labels.subtracting([WorkerPolicy.rankZeroLabel]).sorted()
            let labelText = labels.isEmpty ? "" : ", labels " + labels.joined(separator: ",")
            return "\(worker.id) on \(worker.host) (\(worker.capacity)\(labelText)\(worker.profile.exclusive ? ", on: rank0 stages only" : ""))"
        }.joined(separator: "; ")
        let counted = "\(instances) instance\(instances == 1 ? "" : "s")" + (listsItems ? " so far (more as its generators list items)" : "")
        emit("cohort: study \(study): \(counted) on \(workers.count) worker\(workers.count == 1 ? "" : "s"): \(described)")
        board.cpus = workers.reduce(0) { $0 + $1.capacity.cpus }
        lastProgress = start
        redraw(force: true)
    }

    public func instanceStarted(_ name: String, on worker: WorkerInfo) {
        board.started(name)
        redraw()
    }

    public func instanceFinished(_ name: String, report: TaskReport, on worker: WorkerInfo, endedEarly: EarlyEnd?, cause: String?,
                                 finished: Int, total: Int) {
        board.finished(name, outcome: endedEarly != nil ? .interrupted : report.outcome, wallSeconds: report.wallSeconds)
        var progress: String { "\(finished)/\(total)" }
        if report.outcome.succeeded {
            if mode == .lines { emit("\(stamp()) done    \(name)  \(worker.id)  \(format(report.wallSeconds, decimals: 2))s  \(progress)") }
        } else if let endedEarly {
            switch endedEarly {
            case .interrupted: if mode == .lines { emit("\(stamp()) stopped \(name)  \(worker.id)  (will run again next time)") }
            case .lost: if mode == .lines { emit("\(stamp()) lost    \(name)  \(worker.id)  (its worker left; it starts again)") }
            case .givenBack: break  // queued behind another attempt, never started: back in line
            }
        } else {
            emit("\(stamp()) FAILED  \(name)  \(worker.id)  \(cause ?? report.outcome.text)  \(progress)")
        }
        redraw()
    }

    public func instanceSkipped(_ name: String, because cause: String) {
        board.skipped(name)
        if mode == .lines { emit("\(stamp()) skipped \(name)  (\(cause) failed)") }
        redraw()
    }

    /// Between events: the batch log's progress line when it is due, the block's clock.
    public func tick() {
        let now = clock()
        if mode != .block, now - lastProgress >= interval {
            lastProgress = now
            emit("\(stamp()) \(board.line())")
        }
        if mode == .block, now - lastDraw >= 1 { redraw() }
    }

    public func instanceRetrying(_ name: String, retry: Int, of retries: Int, attempt: Int) {
        board.retrying(name)
        emit("\(stamp()) retry   \(name)  retry \(retry) of \(retries) (attempt \(attempt) over every run)")
    }

    public func workerDied(_ worker: WorkerInfo) {
        emit("\(stamp()) died    \(worker.id) on \(worker.host) (pid \(worker.pid)): a worker rank died, so mpirun ends the job; every success is in the journal, run the same command again to carry on")
    }

    public func workerDrained(_ worker: WorkerInfo, reason: String) {
        emit("\(stamp()) drained \(worker.id) (\(worker.host)): \(reason); it gets no more work, the run goes on with the others")
    }

    public func stopping(signal: String) {
        emit("\(stamp()) \(signal): stopping; running modules are being terminated and recorded as interrupted")
    }

    public func holding(stage: String, typicalSeconds: Double, secondsLeft: Double) {
        emit("\(stamp()) holding \(stage): it typically takes \(duration(typicalSeconds)), only \(duration(secondsLeft)) left in this allocation; not starting it")
    }

    public func added(_ count: Int, toStage stage: String) {
        board.added(count, toStage: stage)
    }

    public func watching(_ name: String, newItems: Int, nextLookIn: Double?) {
        let found = newItems == 0 ? "no new items" : newItems == 1 ? "1 new item" : "\(newItems) new items"
        if let nextLookIn {
            let idle = watchesEndWhenIdle ? ", or once nothing else is left (--no-watch: the last look)" : ""
            emit("\(stamp()) watching \(name): \(found); looking again in \(duration(nextLookIn))\(idle)")
        } else {
            emit("\(stamp()) watching \(name): \(found); last look done, the watch ended")
        }
    }

    public func runFinished(_ summary: RunSummary) {
        redraw(force: true)
        drawn = 0  // the last block stays on screen above the summary
        emit(SummaryText.render(summary))
    }

    /// What a new run skips and reruns, per stage, and why (DESIGN §5).
    /// `typicalDurations`: per stage, the journal's median wall time (for the ETA).
    /// `stageCpus`: per stage, the cpus one instance holds (for the ETA).
    public func planned(_ outlook: RunOutlook, history: JournalHistory, journalPath: String, typicalDurations: [Double?] = [],
                        stageCpus: [Int] = []) {
        board = ProgressBoard(outlook: outlook, earlierMedians: typicalDurations, cpus: stageCpus)
        for (line, reason) in history.damaged {
            emit("cohort: warning: \(journalPath):\(line): record ignored: \(reason)")
        }
        guard history.runs > 0 else { return }
        emit("cohort: resuming from \(journalPath) (\(history.runs) earlier run\(history.runs == 1 ? "" : "s"))")
        for line in PlanText.lines(outlook) { emit("  " + line) }
    }

    public func problem(_ text: String) {
        // Above the block, like every other line: the block is drawn again below it.
        if mode == .block, drawn > 0 {
            writeAll(STDOUT_FILENO, Self.erase(drawn))
            drawn = 0
            writeAll(STDERR_FILENO, text + "\n")
            redraw(force: true)
        } else {
            writeAll(STDERR_FILENO, text + "\n")
        }
    }

    public func note(_ text: String) {
        emit(text)
    }

    /// One write(2) per line: batch logs see each line when it happens.
    /// On a terminal the line goes above the block, which is drawn again below it.
    private func emit(_ line: String) {
        guard mode == .block, drawn > 0 else {
            writeAll(STDOUT_FILENO, line + "\n")
            return
        }
        writeAll(STDOUT_FILENO, Self.erase(drawn) + line + "\n")
        drawn = 0
        redraw(force: true)
    }

    /// Draws the block again (at most five times a second unless `force`).
    private func redraw(force: Bool = false) {
        guard mode == .block, start > 0 || force else { return }
        let now = clock()
        guard force || now - lastDraw >= 0.2 else { return }
        lastDraw = now
        let (columns, lines) = Self.screenSize()
        let block = board.block(elapsed: now - start, columns: columns, lines: max(2, lines - 2))
        writeAll(STDOUT_FILENO, Self.erase(drawn) + block.joined(separator: "\n") + "\n")
        drawn = block.count
    }

    /// The user's terminal in columns and lines: `COHORT_COLUMNS`/`COHORT_LINES`
    /// (mpirun.sh passes them: under mpirun stdout is not that terminal),
    /// else stdout's window size, else 80 × 24. A size of 0 (a pseudo-terminal
    /// that never set one, as `script` makes) is unknown.
    static func screenSize() -> (columns: Int, lines: Int) {
        let environment = currentEnvironment()
        var size = winsize()
        let known = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0
        func given(_ name: String) -> Int? { environment[name].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } }
        let columns = given("COHORT_COLUMNS") ?? (known ? Int(size.ws_col) : 80)
        let lines = given("COHORT_LINES") ?? (known && size.ws_row > 0 ? Int(size.ws_row) : 24)
        return (max(20, columns), max(4, lines))
    }

    /// Moves the cursor up over the `lines` drawn last and clears from there down.
    static func erase(_ lines: Int) -> String {
        lines > 0 ? "\u{1b}[\(lines)F\u{1b}[J" : ""
    }
}
