import CohortTesting
import Testing

/// Every benchmark runs, at a tiny size, and `bench/all.sh` prints its
/// table (no figure is asserted: timings belong to the benchmark, not to tests).
@Suite(.enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct BenchSmokeTests {
    @Test func everyBenchmarkRunsAndTheTableListsEachFigure() throws {
        let result = try ChildProcess.run([repository + "/bench/all.sh"], environment: MPIHarness.environment([
            "COHORT_BIN": MPIHarness.binaryFolder, "REPEAT": "1", "BENCH_SIZES": "20 200 10 30", "SIMULATED_WORKERS": "4",
        ]), timeout: 300)
        #expect(result.code == 0, "\(result.output)")
        let table = result.stdout.split(separator: "\n").map(String.init)
        for figure in ["20 x /bin/true, 2 workers, ./mpirun.sh -np 3", "20 x /bin/true, 2 slots, one process",
                       "scheduler ceiling, no-op modules, -np 2", "scheduler ceiling, no-op modules, -np 5",
                       "status, 311 instances (snapshot)", "plan, 311 instances (snapshot)",
                       "no-op rerun (cohort run, one process), 311 instances",
                       "simulated, 4 workers, 400 subjects, subjects first",
                       "plan, BIDS dataset of 30 subjects (found on disk)"] {
            #expect(table.contains { $0.hasPrefix(figure) }, "\(figure) in \(result.stdout)")
        }
        #expect(table.contains { $0.hasPrefix("machine: ") })
    }
}

/// `--noop-modules` (benchmarks) keeps its journal apart: a real run never
/// takes its instant successes for done work.
@Suite(.enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct NoopModulesTests {
    @Test func modulesThatRanNothingNeverCountForARealRun() throws {
        let job = try MPIHarness.writeJob("""
            study: noop
            subjects: [a, b]
            stages:
              - {name: make, domain: subject, run: 'touch {workdir}/made'}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let noop = try MPIHarness.run(ranks: 2, ["run", job, "--noop-modules"])
        #expect(noop.code == 0 && noop.stdout.contains("All 2 instances done."), "\(noop.output)")
        #expect(!Files.exists(folder + "/out/make/a/made"), "nothing ran")
        let real = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(real.stdout.contains("All 2 instances done.") && !real.stdout.contains("earlier runs"), "\(real.stdout)")
        #expect(Files.exists(folder + "/out/make/a/made") && Files.exists(folder + "/out/make/b/made"))
    }
}
