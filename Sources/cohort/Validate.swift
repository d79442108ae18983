import ArgumentParser
import CohortCore
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort validate job.yml`: every problem in the job file, one per line,
/// and every check against the file system that `cohort run` makes before
/// it starts (module scripts, the workdir), without creating anything.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a job file, and the module scripts and workdir it names, printing every problem found (exit 2 if any).")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    func run() throws {
        let study = try Study.opened(jobFile)
        let problems = study.problemsBeforeRunning(createWorkdir: false)
        guard problems.isEmpty else {
            writeLine(STDERR_FILENO, problems.joined(separator: "\n"))
            throw ExitCode(2)
        }
        for warning in study.datasetWarnings + study.untrackedScriptWarnings { writeLine(STDERR_FILENO, warning) }
        writeLine(STDOUT_FILENO, "\(jobFile): valid: \(study.summaryLine)")
    }
}
