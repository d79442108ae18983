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
        abstract: "Show progress, what runs where, and failures from the journal, during a run or after it.",
        discussion: "Exit codes: 0 nothing failed; 1 some instance failed; 2 invalid job file.")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Flag(help: "One matrix row per session instead of per subject.")
    var sessions = false

    @Flag(help: "Every matrix row and every running instance, however many (with --json: every instance not done).")
    var all = false

    @Flag(help: "Print JSON for scripts instead (schema: cohort-status/1, in the README).")
    var json = false

    func run() throws {
        let study = try Study.opened(jobFile, recordedTreeIfUnreadable: true)
        // Scripts get the whole schema also before the first run (everything to do).
        let (report, warnings) = study.statusReport(withoutJournal: json)
        for warning in warnings { writeLine(STDERR_FILENO, warning) }
        guard let report else {
            writeLine(STDOUT_FILENO, study.noRunYet)
            return
        }
        writeLine(STDOUT_FILENO, json ? StatusJSON.render(report, all: all)
                                      : StatusText.render(report, matrix: .init(sessions: sessions, allRows: all)))
        if report.anythingFailed { throw ExitCode(1) }
    }
}
