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
        let note = JobFileReader.readOptional(state.lock)?.trimmingTrailingNewlines() ?? ""
        let live = RunLock.isHeld(path: state.lock)
        let (scripts, unreadable) = ModuleScripts.digestsOfWhatCanBeRead(job: job, jobFolder: jobFolder)
        for problem in unreadable { writeLine(STDERR_FILENO, "cohort: warning: \(problem); its stage is shown as changed") }
        let definitions = Definitions(graph: graph, scriptDigests: scripts,
                                      earlierScriptDigests: ModuleScripts.earlierDigests(job: job, jobFolder: jobFolder))
        let plan = ResumePlan(graph: graph, history: history, definitions: definitions)
        writeLine(STDOUT_FILENO, StatusText.render(
            StudyStatus(graph: graph, history: history, plan: plan, runIsLive: live), history: history,
            factory: TaskFactory(graph: graph, jobFolder: jobFolder), journalPath: state.journal,
            run: live ? .live(note) : history.lastRunEnded ? .none : .died(note, lastRecord: history.lastRecordTime)))
    }
}
