import ArgumentParser
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort note-lost-rank JOB --rank N --host H --why TEXT` (for `mpirun.sh`):
/// journals that a rank died, as mpirun reported it, after the MPI job ended.
/// A run holding the study (already a new one) is left alone (exit 3).
struct NoteLostRank: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "note-lost-rank", abstract: "Journal a rank that died (used by mpirun.sh).", shouldDisplay: false)

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Option(help: "The rank that died.")
    var rank: Int

    @Option(help: "Its host.")
    var host: String

    @Option(help: "What mpirun said of it.")
    var why: String

    func run() throws {
        do {
            try Study(jobFile: jobFile).noteLostRank(rank, host: host, why: why)
        } catch is RunLock.Held {
            throw ExitCode(3)
        } catch {
            writeLine(STDERR_FILENO, "cohort note-lost-rank: \(error)")
            throw ExitCode(2)
        }
    }
}
