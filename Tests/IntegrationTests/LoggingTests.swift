import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--log-level`: diagnostics from every rank on stderr, each line naming its rank and host.
@Suite(.enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct LoggingTests {
    var host: String { ProcessEnvironment.hostName }

    @Test func debugLinesNameTheirRankAndHostAndTheDefaultIsQuiet() throws {
        let job = try MPIHarness.writeJob("study: logs\nsubjects: [a, b]\nstages:\n  - {name: one, domain: subject, run: 'true'}\n")
        let quiet = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(quiet.code == 0)
        #expect(!quiet.stderr.contains("cohort: rank "), "\(quiet.stderr)")

        let loud = try MPIHarness.run(ranks: 3, ["run", job, "--force", "one", "--log-level", "debug"])
        #expect(loud.code == 0)
        #expect(loud.stderr.contains("cohort: rank 0 on \(host): info: rank 1 joined"), "\(loud.stderr)")
        #expect(loud.stderr.contains("cohort: rank 0 on \(host): debug: start one:a on rank "))
        let workerLines = loud.stderr.split(separator: "\n").filter {
            $0.hasPrefix("cohort: rank 1 on \(host): debug: ") || $0.hasPrefix("cohort: rank 2 on \(host): debug: ")
        }
        #expect(workerLines.contains { $0.contains(": debug: starting one:") })
        #expect(workerLines.contains { $0.contains(" ended: done seconds=") })
        #expect(!loud.stdout.contains("cohort: rank "), "diagnostics stay off stdout: \(loud.stdout)")
    }

    @Test func anUnknownLevelIsRefusedNamingTheLevels() throws {
        let job = try MPIHarness.writeJob("study: levels\nstages:\n  - {name: one, domain: study, run: 'true'}\n")
        let result = try MPIHarness.run(ranks: 1, ["run", job, "--log-level", "loud"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("--log-level loud: not one of trace, debug, info, notice, warning, error, critical"))
        #expect(!Files.exists(String(job.dropLast("/job.yml".count)) + "/.cohort"), "nothing ran")
    }
}
