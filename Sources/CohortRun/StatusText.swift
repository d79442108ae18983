public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// `cohort status`'s report: who holds the study, per-stage counts, failures.
/// Formatted beside `SummaryText` so both tables share their helpers.
public enum StatusText {
    /// Whether a run is working on the study, decided by probing its lock
    /// (never by the lock file's text alone, which a killed run leaves).
    public enum RunState {
        case none
        /// A live process holds the lock; its note (host, pid, since).
        case live(String)
        /// The last run never journaled its end: killed (kill -9, a lost node,
        /// the walltime's SIGKILL). Its note, if left, and its last record's time.
        case died(String, lastRecord: Double?)
    }

    public static func render(_ status: StudyStatus, history: JournalHistory, factory: TaskFactory,
                              journalPath: String, run: RunState) -> String {
        let graph = factory.graph
        var lines = ["study \(graph.job.study): \(history.runs) run\(history.runs == 1 ? "" : "s") in \(journalPath)"]
        switch run {
        case .none:
            lines.append("no run is active")
        case .live(let note):
            lines.append("a run holds the study (\(note.isEmpty ? "holder unknown" : note))")
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
        if !status.failures.isEmpty {
            lines.append("Failed (\(status.failures.count)):")
            for failure in status.failures {
                let logs = failure.logs.map { resolved($0, in: factory.jobFolder) }
                    ?? factory.instanceFolder(of: failure.instance)
                lines.append("  \(graph.name(of: failure.instance)): \(failure.outcome.text) (attempt \(failure.attempt))")
                lines.append("    logs: \(logs)/stderr.log, stdout.log")
            }
        }
        for (line, reason) in history.damaged { lines.append("warning: \(journalPath):\(line): \(reason)") }
        return lines.joined(separator: "\n")
    }
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
