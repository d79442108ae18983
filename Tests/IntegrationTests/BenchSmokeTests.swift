import CohortTesting
import Testing

/// Every benchmark runs, at a tiny size, and `bench/all.sh` prints its
/// table (no figure is asserted: timings belong to the benchmark, not to tests).
@Suite(.enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct BenchSmokeTests {
    @Test func everyBenchmarkRunsAndTheTableListsEachFigure() throws {
        let result = try ChildProcess.run([repository + "/bench/all.sh"], environment: MPIHarness.environment([
            "COHORT_BIN": MPIHarness.binaryFolder, "REPEAT": "1", "BENCH_SIZES": "20 200 10", "SIMULATED_WORKERS": "4",
        ]), timeout: 300)
        #expect(result.code == 0, "\(result.output)")
        let table = result.stdout.split(separator: "\n").map(String.init)
        for figure in ["20 x /bin/true, 2 workers, mpirun -np 3", "20 x /bin/true, 2 slots, one process",
                       "scheduler ceiling, no-op modules, -np 2", "scheduler ceiling, no-op modules, -np 5",
                       "status, 311 instances (snapshot)", "plan, 311 instances (snapshot)",
                       "simulated, 4 workers, 160 subjects, subjects first"] {
            #expect(table.contains { $0.hasPrefix(figure) }, "\(figure) in \(result.stdout)")
        }
        #expect(table.contains { $0.hasPrefix("machine: ") })
    }
}
