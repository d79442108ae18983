public import CohortCore
import CohortMPI

/// `cohort status`'s report: who holds the study, per-stage counts, failures.
/// Formatted beside `SummaryText` so both tables share their helpers.
public enum StatusText {
    /// `holder` is the lock file's note ("" when no run holds the study).
    public static func render(_ status: StudyStatus, history: JournalHistory, factory: TaskFactory,
                              journalPath: String, holder: String) -> String {
        let graph = factory.graph
        var lines = ["study \(graph.job.study): \(history.runs) run\(history.runs == 1 ? "" : "s") in \(journalPath)"]
        lines.append(holder.isEmpty ? "no run is active" : "a run holds the study (\(holder))")
        let width = max(5, status.stages.map(\.name.count).max() ?? 0)
        lines.append("  " + pad("stage", width, left: true) + "   done  failed  running   to do  total")
        for stage in status.stages {
            lines.append("  " + pad(stage.name, width, left: true) + pad(String(stage.done), 7) + pad(String(stage.failed), 8)
                         + pad(String(stage.running), 9) + pad(String(stage.toDo), 8) + pad(String(stage.total), 7))
        }
        if !status.failures.isEmpty {
            lines.append("Failed (\(status.failures.count)):")
            for failure in status.failures {
                let logs = failure.logs.map { $0.hasPrefix("/") ? $0 : factory.jobFolder + "/" + $0 }
                    ?? factory.instanceFolder(of: failure.instance)
                lines.append("  \(graph.name(of: failure.instance)): \(failure.outcome.text) (attempt \(failure.attempt))")
                lines.append("    logs: \(logs)/stderr.log, stdout.log")
            }
        }
        for (line, reason) in history.damaged { lines.append("warning: \(journalPath):\(line): \(reason)") }
        return lines.joined(separator: "\n")
    }
}

extension JournalRecord.Ending.Outcome {
    /// The same words as a live run's summary uses (`TaskOutcome.text`).
    public var text: String {
        switch self {
        case .succeeded: "done"
        case .exited(let code): TaskOutcome.exited(Int32(clamping: code)).text
        case .signaled(let signal): TaskOutcome.signaled(Int32(clamping: signal)).text
        case .timedOut: TaskOutcome.timedOut.text
        case .couldNotStart(let reason): TaskOutcome.couldNotStart(reason).text
        case .interrupted: "interrupted"
        }
    }
}
