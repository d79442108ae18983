import CohortTesting
import Testing

/// Live progress on rank 0: a redrawn block on a terminal (a real
/// pseudo-terminal, through `script`), plain lines without escape codes in
/// a batch log, one line per success only when asked.
@Suite(.enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct ProgressTests {
    func job() throws -> String {
        try MPIHarness.writeJob("""
            study: progress
            subjects: [a, b, c, d]
            stages:
              - {name: prep, domain: subject, run: 'sleep 0.3'}
              - {name: fit, domain: subject, run: '[ {subject} != c ] || { echo diverged >&2; exit 2; }; sleep 0.2'}
            """)
    }

    @Test func aBatchLogGetsFailuresAndProgressLinesButNoEscapesOrSuccessLines() throws {
        let result = try MPIHarness.run(ranks: 3, ["run", try job(), "--progress-interval", "0.3"])
        #expect(result.code == 1)
        #expect(!result.stdout.contains("\u{1b}"), "no escape codes in a batch log: \(result.stdout)")
        #expect(!result.stdout.contains("] done    "), "no line per success: \(result.stdout)")
        #expect(result.stdout.contains("] FAILED  fit:c  rank "), "\(result.stdout)")
        #expect(result.stdout.contains("] progress: "), "a progress line at the interval: \(result.stdout)")
        #expect(result.stdout.contains(" of 8 done, "))
        // The summary gains per-stage wall time and memory.
        #expect(result.stdout.contains("wall median       max   memory median       max   attempts"))
    }

    @Test func linesModeShowsEverySuccess() throws {
        let result = try MPIHarness.run(ranks: 2, ["run", try job(), "--progress", "lines"])
        #expect(result.stdout.contains("] done    prep:a  rank 1  "), "\(result.stdout)")
        #expect(!result.stdout.contains("\u{1b}"))
        let refused = try MPIHarness.run(ranks: 1, ["run", try job(), "--progress", "fancy"])
        #expect(refused.code == 2)
        #expect(refused.stderr.contains("--progress fancy: not one of auto, block, periodic, lines"))
    }

    @Test func aTerminalGetsARedrawnBlockWithFailuresAbove() throws {
        let job = try job()
        // `script` runs the command on a new pseudo-terminal and copies what
        // it shows. Without mpirun, cohort sees the terminal itself; under
        // mpirun, mpirun.sh says so with COHORT_TERMINAL (see the next test).
        let result = try ChildProcess.run(["script", "-qfec", "'\(MPIHarness.cohort)' run '\(job)' --slots 2", "/dev/null"])
        #expect(result.code == 1, "\(result.output)")
        let screen = result.stdout
        #expect(screen.contains("\u{1b}[4F\u{1b}[J"), "the block (times, two stages, all) is redrawn in place: \(screen)")
        #expect(screen.contains("  prep   [####################]  4/4 done"), "\(screen)")
        #expect(screen.contains("  all    ["))
        #expect(screen.contains(", ETA "))
        // A failure is printed above the block: the block is erased, the line written, the block drawn again.
        #expect(screen.contains("\u{1b}[J[") && screen.contains("FAILED  fit:c  rank "), "\(screen)")
        #expect(!screen.contains("] done    "), "no line per success on a terminal")
        #expect(screen.contains("Summary: study progress"))
    }

    /// Under mpirun rank 0 cannot tell a terminal (mpirun gives it a pipe or
    /// a pseudo-terminal of its own): COHORT_TERMINAL, set by mpirun.sh from
    /// its own stdout, decides; without it, a batch log is assumed.
    @Test func underMpirunTheTerminalIsWhatCohortTerminalSays() throws {
        let job = try job()
        let arguments = MPIHarness.mpirunArguments(ranks: 3, ["run", job])
        func quoted(_ words: [String]) -> String { words.map { "'\($0)'" }.joined(separator: " ") }
        let plain = try ChildProcess.run(["script", "-qfec", quoted(arguments), "/dev/null"])
        #expect(!plain.stdout.contains("\u{1b}["), "mpirun's own pseudo-terminal is not taken for the user's")
        let told = try ChildProcess.run(["script", "-qfec", quoted(["mpirun", "-x", "COHORT_TERMINAL=1"] + arguments.dropFirst()), "/dev/null"])
        #expect(told.stdout.contains("\u{1b}[J"), "\(told.stdout)")
        #expect(told.stdout.contains("  all    ["))
    }

    /// mpirun.sh tells rank 0 whether its own stdout is a terminal: the
    /// block on one (a pseudo-terminal through `script`), plain lines into a file.
    @Test func mpirunShTellsRankZeroWhetherItsOutputIsATerminal() throws {
        let job = try job()
        // The tests' own build, not a release build of the sources.
        let environment = MPIHarness.environment(["COHORT_BIN": MPIHarness.binaryFolder])
        let onTerminal = try ChildProcess.run(["script", "-qfec", "'\(repository)/mpirun.sh' -np 3 '\(job)' --force prep", "/dev/null"],
                                              environment: environment)
        #expect(onTerminal.stdout.contains("\u{1b}[J") && onTerminal.stdout.contains("  all    ["), "\(onTerminal.stdout)")
        let log = String(job.dropLast("job.yml".count)) + "batch.log"
        let intoFile = try ChildProcess.run(["sh", "-c", "'\(repository)/mpirun.sh' -np 3 '\(job)' --force prep > '\(log)' 2>&1"],
                                            environment: environment)
        #expect(intoFile.code == 1, "fit:c fails")
        let text = Files.read(log)
        #expect(!text.contains("\u{1b}["), "no escape codes in a log: \(text)")
        #expect(text.contains("FAILED  fit:c  rank "), "\(text)")
    }
}
