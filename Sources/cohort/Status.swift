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
        let study = try Study.opened(jobFile)
        let report = study.statusReport()
        for warning in report.warnings { writeLine(STDERR_FILENO, warning) }
        writeLine(STDOUT_FILENO, report.text)
    }
}
