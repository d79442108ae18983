import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// `cohort status`'s report: who holds the study, per-stage counts, the
/// subject × stage matrix, what runs where, and failures grouped by signature.
public enum StatusText {
    /// Whether a run is working on the study, decided by probing its lock
    /// (never by the lock file's text alone, which a killed run leaves).
    public enum RunState: Sendable {
        case none
        /// A live process holds the lock; its note (host, pid, since).
        case live(String)
        /// The last run never journaled its end: killed (kill -9, a lost node,
        /// the walltime's SIGKILL). Its note, if left, and its last record's time.
        case died(String, lastRecord: Double?)
    }

    /// How the matrix is drawn.
    public struct MatrixOptions: Sendable {
        /// One row per session instead of per subject.
        public var sessions = false
        /// Every row, however many; else at most `rowLimit`, those needing attention first.
        public var allRows = false
        public var rowLimit = 40
        public init(sessions: Bool = false, allRows: Bool = false) {
            self.sessions = sessions
            self.allRows = allRows
        }
    }

    public static func render(_ report: StatusReport, matrix: MatrixOptions = MatrixOptions()) -> String {
        let status = report.status
        let graph = report.graph
        let history = report.history
        var lines = ["study \(graph.job.study): \(history.runs) run\(history.runs == 1 ? "" : "s") in \(report.journalPath)"]
        switch report.run {
        case .none:
            lines.append("no run is active")
        case .live(let note):
            var line = "a run holds the study (\(note.isEmpty ? "holder unknown" : note))"
            if let run = history.lastRun { line += ": started \(localTime(run.time)) on \(workers(run)) worker\(workers(run) == 1 ? "" : "s")" }
            lines.append(line)
        case .died(let note, let lastRecord):
            let when = lastRecord.map { " at about \(localTime($0))" } ?? ""
            let who = note.isEmpty ? "" : " (\(note))"
            lines.append("the last run\(who) ended abnormally\(when): it was killed before recording its end; nothing is running, and the next run redoes what it left unfinished")
        }
        let width = max(5, status.stages.map(\.name.count).max() ?? 0)
        lines.append("  " + pad("stage", width, left: true) + "   done  failed  running   to do  total")
        for stage in status.stages {
            lines.append("  " + pad(stage.name, width, left: true) + pad(String(stage.done), 7) + pad(String(stage.failed), 8)
                         + pad(String(stage.running), 9) + pad(String(stage.toDo), 8) + pad(String(stage.total), 7))
        }
        lines += StatusMatrix.lines(status, graph: graph, options: matrix)
        if !status.running.isEmpty {
            lines.append("")
            lines.append("Running (\(status.running.count)):")
            // GPU use now: each running instance holds its stage's gpus on each of its nodes (DESIGN §7).
            let gpuStages = status.stages.indices.filter { graph.job.stages[$0].gpus > 0 && status.stages[$0].running > 0 }
            if !gpuStages.isEmpty {
                let used = gpuStages.map { status.stages[$0].running * graph.job.stages[$0].gpus * graph.job.stages[$0].nodes }
                lines.append("  GPUs in use: \(used.reduce(0, +)) (" + zip(gpuStages, used).map { "\(status.stages[$0].name) \($1)" }.joined(separator: ", ") + ")")
            }
            let now = epochSeconds()
            for running in status.running.sorted(by: { $0.since < $1.since }).prefix(matrix.allRows ? .max : 20) {
                lines.append("  \(graph.name(of: running.instance))  rank \(running.rank) on \(running.host)  for \(duration(max(0, now - running.since)))")
            }
            if !matrix.allRows && status.running.count > 20 { lines.append("  ... and \(status.running.count - 20) more (--all lists every one)") }
        }
        if !status.watching.isEmpty {
            let live = if case .live = report.run { true } else { false }
            lines.append("")
            lines.append("Watching (\(status.watching.count)): " + status.watching.prefix(5).map { graph.name(of: $0) }.joined(separator: ", ")
                         + (status.watching.count > 5 ? ", ..." : "")
                         + (live ? "; the run looks for new items at each interval"
                                 : "; the next run looks for new items again (cohort run --no-watch takes one last look)"))
        }
        if !report.failureGroups.isEmpty {
            lines.append("")
            lines.append("Failed (\(status.failures.count)):")
            for group in report.failureGroups { lines += group.lines(jobFile: report.jobFile) }
        }
        for (line, reason) in history.damaged { lines.append("warning: \(report.journalPath):\(line): \(reason)") }
        return lines.joined(separator: "\n")
    }

    static func workers(_ run: JournalRecord.RunStart) -> Int { max(1, run.ranks - 1) }
}

/// `epochSeconds` as local `YYYY-MM-DD HH:MM:SS`.
public func localTime(_ epochSeconds: Double) -> String {
    var seconds = time_t(epochSeconds)
    var parts = tm()
    localtime_r(&seconds, &parts)
    var buffer = [CChar](repeating: 0, count: 64)
    let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
    return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
