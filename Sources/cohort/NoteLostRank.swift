import ArgumentParser
import CohortCore
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort note-lost-rank JOB --rank N --host H --why TEXT` (for `mpirun.sh`):
/// journals that a rank died, as mpirun reported it, after the MPI job ended.
/// Rank 0 names a dead rank on its own host itself; one on another host
/// (a lost node) only mpirun sees. Takes the run lock like a run: a run
/// holding the study (already a new one) is left alone.
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
            let job = try JobFileReader.load(path: jobFile)
            let state = StateFolder(jobFolder: JobFileReader.folder(of: jobFile), study: job.study)
            guard let text = JobFileReader.readOptional(state.journal) else { return }
            // Rank 0 may have named it already (a rank on its own host).
            let lastRun = text.range(of: "\trun\t", options: .backwards)?.upperBound ?? text.startIndex
            if text[lastRun...].contains("\tdrain\trank=\(rank)\t") { return }
            let lock = try RunLock.acquire(path: state.lock, owner: "note-lost-rank, pid \(getpid())").lock
            defer { lock.release() }
            let journal = try JournalFile(path: state.journal)
            try journal.append([.drained(rank: rank, host: host, reason: "the rank died (mpirun: \(why))", time: epochSeconds())],
                               durable: true)
        } catch is RunLock.Held {
            throw ExitCode(3)
        } catch {
            writeLine(STDERR_FILENO, "cohort note-lost-rank: \(error)")
            throw ExitCode(2)
        }
    }
}
