import CohortTesting
import Testing

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
