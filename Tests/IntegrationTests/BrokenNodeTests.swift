import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Broken nodes are drained, not fed (issue 9), under mpirun.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct BrokenNodeTests {
    /// Rank 2 stands for a node with a stale mount: everything fails there
    /// at once. With 3 workers and `retries: 2`, every subject still ends done.
    @Test func aWorkerWhereEverythingFailsIsDrained() throws {
        let subjects = (1...20).map { "s\($0)" }.joined(separator: ", ")
        let job = try MPIHarness.writeJob("""
            study: broken
            subjects: [\(subjects)]
            stages:
              - {name: convert, domain: subject, retries: 2, run: "[ $COHORT_RANK != 2 ] || { echo stale file handle >&2; exit 1; }; sleep 0.1"}
            """)
        let result = try MPIHarness.run(ranks: 4, ["run", job, "--slots", "1"], timeout: 120)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("All 20 instances done."))
        #expect(result.stdout.contains("drained rank 2 ("), "\(result.stdout)")
        #expect(result.stdout.contains("Drained workers (1): no more work went there"))
        let journal = Files.read(String(job.dropLast("/job.yml".count)) + "/.cohort/broken/journal")
        #expect(journal.contains("\tdrain\trank=2\t"))
    }
}

extension BrokenNodeTests {
    /// SIGTERM to one worker rank alone (its node is being shut down): it
    /// drains, what ran there starts again on the others, and the run ends done.
    @Test func aWorkerThatAloneIsSignalledDrains() throws {
        let job = try MPIHarness.writeJob("""
            study: leaving
            subjects: [a, b, c, d, e, f]
            stages:
              - {name: work, domain: subject, run: "echo $COHORT_RANK >> {workdir}/../ranks; touch {workdir}/../started-$COHORT_RANK; sleep 2"}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let run = try MPIHarness.start(ranks: 4, ["run", job, "--slots", "1"])
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder + "/out/work/started-2") })
        let rankTwo = ProcessTable.ranks(2, of: job)
        #expect(rankTwo.count == 1)
        for pid in rankTwo { kill(pid, SIGTERM) }
        let result = run.wait(timeout: 60)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("All 6 instances done."))
        #expect(result.stdout.contains("drained rank 2 ("), "\(result.stdout)")
        #expect(result.stdout.contains("its rank received SIGTERM"))
        let ranks = Files.read(folder + "/out/work/ranks").split(separator: "\n")
        #expect(ranks.filter { $0 == "2" }.count == 1, "rank 2 took nothing after its signal: \(ranks)")
        #expect(Files.read(folder + "/.cohort/leaving/journal").contains("\tdrain\trank=2\t"))
    }
}

extension BrokenNodeTests {
    /// scancel (or a forwarded Ctrl-C) reaches every rank of the job within
    /// milliseconds, in no order: every worker rank leaving is a stop of the
    /// run by that signal (143, or 130), not a failure that would end a
    /// resubmission chain, and no worker is called broken.
    @Test(arguments: [(SIGTERM, Int32(143)), (SIGUSR2, Int32(130))])
    func everyWorkerSignalledIsAStopNotAFailure(_ signal: Int32, _ code: Int32) throws {
        let job = try MPIHarness.writeJob("""
            study: cancelled
            subjects: [a, b, c, d]
            stages:
              - {name: work, domain: subject, run: "touch {workdir}/started; sleep 20"}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let run = try MPIHarness.start(ranks: 3, ["run", job, "--slots", "1"])
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder + "/out/work/a/started") && Files.exists(folder + "/out/work/b/started") })
        for pid in ProcessTable.ranks(1, of: job) + ProcessTable.ranks(2, of: job) { kill(pid, signal) }
        Clock.sleep(0.3)
        for pid in ProcessTable.ranks(0, of: job) { kill(pid, signal) }
        let result = run.wait(timeout: 60)
        #expect(result.code == code, "stopped by the signal sent, as a stop: \(result.output)")
        #expect(!result.stdout.contains("Could not start"), "\(result.stdout)")
        #expect(!result.stdout.contains("Drained workers"), "workers stopped with the run are not broken: \(result.stdout)")
    }
}
