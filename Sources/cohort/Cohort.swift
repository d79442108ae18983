import ArgumentParser
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort`: run study/subject/session pipelines inside one MPI job.
///
/// Exit codes (DESIGN §2): 0 all done; 1 some instance failed or was
/// skipped; 2 invalid job file or command line (nothing ran).
@main
struct Cohort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Run a study/subject/session pipeline across a cluster inside one MPI job.",
        discussion: """
            Under MPI, rank 0 schedules and every other rank works:
              mpirun -np 4 cohort run job.yml
            Without mpirun (or with -np 1) the single process does both.
            Exit codes: 0 all done, 1 some instance failed or was skipped, 2 invalid job file or \
            arguments, 3 another run holds the study's state, 130/143 stopped (run again to carry on).
            """,
        subcommands: [Run.self, Plan.self, Status.self, Graph.self, Report.self, Validate.self, NoteLostRank.self])

    /// ArgumentParser exits 64 on usage errors; Cohort's contract is 2.
    static func main() {
        // Output into a closed pipe (`cohort run job.yml | head`, a pager
        // quit early) must not kill a run: writes fail with EPIPE instead.
        // Modules get every signal's default back when they are spawned.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                writeLine(STDOUT_FILENO, message)
                Glibc.exit(0)
            }
            // Every rank parses the same arguments: let one of them say it.
            if isRankZero { writeLine(STDERR_FILENO, message) }
            Glibc.exit(2)
        }
    }

    /// True unless this process is a non-zero rank started by mpirun.
    static var isRankZero: Bool {
        guard let rank = getenv("OMPI_COMM_WORLD_RANK") else { return true }
        return String(cString: rank) == "0"
    }
}

/// One line to `fd` in a single write.
func writeLine(_ fd: Int32, _ text: String) {
    writeAll(fd, text + "\n")
}
