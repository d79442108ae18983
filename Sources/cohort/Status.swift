import ArgumentParser
import CohortCore
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort status job.yml`: what the journal says, from another shell (the
/// login node) while a run goes on or after it. Reads only; takes no lock.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show per-stage progress and failures from the journal, during a run or after it.")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    func run() throws {
        let job: Job
        let graph: InstanceGraph
        do {
            job = try JobFileReader.load(path: jobFile)
            graph = try InstanceGraph(job: job)
        } catch let error as JobFileError {
            writeLine(STDERR_FILENO, error.description)
            throw ExitCode(2)
        }
        let jobFolder = JobFileReader.folder(of: jobFile)
        let state = StateFolder(jobFolder: jobFolder, study: job.study)
        let text = JobFileReader.readOptional(state.journal)
        guard let text else {
            writeLine(STDOUT_FILENO, "study \(job.study): no run yet (no journal at \(state.journal)); \(graph.instanceCount) instances to do")
            return
        }
        let history = JournalHistory(text: text)
        let status = StudyStatus(graph: graph, history: history)
        let holder = JobFileReader.readOptional(state.lock)?.trimmingCharacters(in: " \n") ?? ""
        var lines = ["study \(job.study): \(history.runs) run\(history.runs == 1 ? "" : "s") in \(state.journal)"]
        lines.append(holder.isEmpty ? "no run is active" : "a run holds the study (\(holder))")
        let width = max(5, job.stages.map(\.name.count).max() ?? 0)
        func cell(_ value: Int, _ size: Int) -> String { String(repeating: " ", count: max(0, size - String(value).count)) + String(value) }
        lines.append("  " + "stage".padding(width) + "   done  failed  running   to do  total")
        for stage in status.stages {
            lines.append("  " + stage.name.padding(width) + cell(stage.done, 7) + cell(stage.failed, 8) + cell(stage.running, 9)
                         + cell(stage.toDo, 8) + cell(stage.total, 7))
        }
        if !status.failures.isEmpty {
            lines.append("Failed (\(status.failures.count)):")
            let factory = TaskFactory(graph: graph, jobFolder: jobFolder)
            for failure in status.failures {
                lines.append("  \(graph.name(of: failure.instance)): \(describe(failure.outcome))")
                lines.append("    logs: \(factory.instanceFolder(of: failure.instance))/stderr.log, stdout.log")
            }
        }
        for (line, reason) in history.damaged { lines.append("warning: \(state.journal):\(line): \(reason)") }
        writeLine(STDOUT_FILENO, lines.joined(separator: "\n"))
    }

    private func describe(_ outcome: JournalRecord.Ending.Outcome) -> String {
        switch outcome {
        case .succeeded: "done"
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        case .timedOut: "timed out"
        case .couldNotStart(let reason): "could not start: \(reason)"
        case .interrupted: "interrupted"
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }

    func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
