import ArgumentParser
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort plan job.yml`: a dry run. What `cohort run` with the same
/// options would do now and why, checked as the run checks (exit 2 where
/// the run would refuse), without taking the lock or creating anything.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a run would do now and why (new, changed, failed earlier, done), per stage or per instance.",
        discussion: "Exit codes: 0 the plan is shown; 2 the run would be refused (every problem printed).")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Flag(help: "One line per instance: its name and what the run would do with it.")
    var instances = false

    @Option(name: .customLong("force"), help: ArgumentHelp("As for run: rerun this stage and everything downstream (repeatable).", valueName: "stage"))
    var forcedStages: [String] = []

    @Option(name: .customLong("only"), help: ArgumentHelp("As for run (repeatable).", valueName: "stage[:subject[:session[:item]]]"))
    var only: [String] = []

    @Option(name: .customLong("subjects"), help: ArgumentHelp("As for run (comma-separated).", valueName: "sub-01,sub-02"))
    var subjects: [String] = []

    func run() throws {
        let study = try Study.opened(jobFile)
        do {
            let report = try study.planReport(RunOptions(jobFile: jobFile, forcedStages: forcedStages, only: only, subjects: subjects),
                                              instances: instances)
            for warning in report.warnings { writeLine(STDERR_FILENO, warning) }
            writeLine(STDOUT_FILENO, report.text)
        } catch {
            writeLine(STDERR_FILENO, error.description)
            throw ExitCode(2)
        }
    }
}
