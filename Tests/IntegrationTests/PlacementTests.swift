import CohortTesting
import Testing

/// Labels, `on: rank0` and locks, end to end under mpirun (DESIGN §7).
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct PlacementTests {
    @Test func labelsRankZeroAndLocksHoldUnderMPI() throws {
        let job = try MPIHarness.writeJob("""
            study: policies
            subjects: [s1, s2, s3, s4, s5, s6]
            stages:
              - name: prep
                domain: subject
                run: echo $COHORT_RANK > {workdir}/rank
              - name: train
                domain: subject
                on: gpu
                run: echo $COHORT_RANK > {workdir}/rank
              - name: atlas
                domain: subject
                after: [prep]
                locks: [atlas]
                run: date +%s%N > {workdir}/begin; sleep 0.2; date +%s%N > {workdir}/end
              - name: report
                domain: study
                on: rank0
                after: [train, atlas]
                run: echo $COHORT_RANK > {workdir}/rank
            """)
        let out = String(job.dropLast("/job.yml".count)) + "/out"
        let result = try MPIHarness.run(ranks: 4, ["run", job, "--label-rank", "3=gpu"])
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("rank 3 on"))
        #expect(result.stdout.contains("labels gpu"))
        let subjects = (1...6).map { "s\($0)" }
        for subject in subjects {
            #expect(Files.read("\(out)/train/\(subject)/rank") == "3\n", "train runs only on the gpu worker")
            #expect(Files.read("\(out)/prep/\(subject)/rank") != "0\n", "rank 0 runs only its own stages")
        }
        #expect(Files.read("\(out)/report/rank") == "0\n", "on: rank0 runs in the scheduler's process")
        let spans = subjects.compactMap { subject -> (Int64, Int64)? in
            let begin = Int64(Files.read("\(out)/atlas/\(subject)/begin").filter(\.isNumber))
            let end = Int64(Files.read("\(out)/atlas/\(subject)/end").filter(\.isNumber))
            guard let begin, let end else { return nil }
            return (begin, end)
        }.sorted { $0.0 < $1.0 }
        #expect(spans.count == 6)
        for (a, b) in zip(spans, spans.dropFirst()) {
            #expect(a.1 <= b.0, "two holders of the atlas lock ran at once")
        }
    }

    /// Issue 9's reproduction: two stages whose locks cross, both ready.
    /// Rank 0 used to idle until killed; they now run one after the other.
    @Test func crossedLocksRunToTheEnd() throws {
        let job = try MPIHarness.writeJob("""
            study: crossed
            subjects: [s1, s2]
            stages:
              - {name: x, domain: subject, locks: [a, {name: b, shared: true}], run: "sleep 0.1"}
              - {name: y, domain: subject, after: [], locks: [b, {name: a, shared: true}], run: "sleep 0.1"}
            """)
        let result = try MPIHarness.run(ranks: 2, ["run", job, "--slots", "2"], timeout: 60)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("All 4 instances done."))
    }

    @Test func labelNoWorkerHasRefusesTheRun() throws {
        let job = try MPIHarness.writeJob("study: s\nstages:\n  - {name: train, domain: study, on: gpu, run: 'true'}\n")
        let result = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(result.code == 2)
        #expect(result.stderr.contains("stage \"train\" runs on workers labelled \"gpu\", but no worker has that label"))
        let labelled = try MPIHarness.run(ranks: 2, ["run", job, "--label", "gpu"])
        #expect(labelled.code == 0, "\(labelled.output)")
    }
}
