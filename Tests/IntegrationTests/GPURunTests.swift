import CohortCore
import CohortTesting
import Testing

/// GPUs under a real mpirun, declared with --gpus (no real device needed):
/// the modules' own records show that no two concurrent instances held one
/// device and that each saw exactly its own (DESIGN §7).
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found (set CI=true to make this a failure)"))
struct GPURunTests {
    static let job = """
        study: gpu
        subjects: [s01, s02, s03, s04, s05, s06, s07, s08, s09, s10]
        stages:
          - name: align
            domain: subject
            gpus: 1
            run: |
              echo "begin {subject} $CUDA_VISIBLE_DEVICES $COHORT_GPUS $(date +%s.%N)" >> ledger
              sleep 0.3
              echo "end {subject} $CUDA_VISIBLE_DEVICES $(date +%s.%N)" >> ledger
          - name: stats
            domain: subject
            after: []
            run: echo "cpu {subject} [${CUDA_VISIBLE_DEVICES-unset}] $COHORT_RANK" >> ledger
        """

    struct Hold { var subject: String; var device: String; var begin: Double; var end: Double }

    @Test func concurrentInstancesNeverShareADeviceAndEachSeesItsOwn() throws {
        let job = try MPIHarness.writeJob(Self.job)
        let folder = String(job.dropLast("/job.yml".count))
        // Three ranks on one host: two workers share the host's four GPUs, two each.
        let result = try MPIHarness.run(ranks: 3, ["run", "--gpus", "4", "--slots", "4", job])
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("2 GPUs"), "the workers' GPUs are shown: \(result.stdout)")
        #expect(result.stdout.contains("GPUs: align held 1 per instance, "), "\(result.stdout)")
        let lines = Files.read(folder + "/ledger").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        var begins: [String: (String, Double)] = [:]
        var holds: [Hold] = []
        for fields in lines where fields[0] == "begin" {
            #expect(fields.count == 5 && fields[2] == fields[3], "one device, in CUDA_VISIBLE_DEVICES and COHORT_GPUS: \(fields)")
            begins[fields[1]] = (fields[2], Double(fields[4])!)
        }
        for fields in lines where fields[0] == "end" {
            let (device, begin) = try #require(begins[fields[1]])
            holds.append(Hold(subject: fields[1], device: device, begin: begin, end: Double(fields[3])!))
        }
        #expect(holds.count == 10)
        #expect(Set(holds.map(\.device)).isSubset(of: ["0", "1", "2", "3"]))
        #expect(Set(holds.map(\.device)).count > 1, "more than one device in use")
        for a in holds {
            for b in holds where a.subject < b.subject && a.device == b.device {
                #expect(a.end <= b.begin || b.end <= a.begin, "\(a.subject) and \(b.subject) held GPU \(a.device) at once")
            }
        }
        let cpu = lines.filter { $0[0] == "cpu" }
        #expect(cpu.count == 10 && cpu.allSatisfy { $0[2] == "[]" }, "a stage without gpus sees none of its worker's: \(cpu)")
    }

    /// Three workers share a host's one GPU: the two without a share hide
    /// it from their modules (the ranks inherited CUDA_VISIBLE_DEVICES=0).
    @Test func workersWithoutAShareOfTheirHostsGPUsHideThem() throws {
        let job = try MPIHarness.writeJob(Self.job)
        let folder = String(job.dropLast("/job.yml".count))
        let result = try MPIHarness.run(ranks: 4, ["run", job], environment: ["CUDA_VISIBLE_DEVICES": "0"])
        #expect(result.code == 0, "\(result.output)")
        let lines = Files.read(folder + "/ledger").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let begins = lines.filter { $0[0] == "begin" }
        #expect(begins.count == 10 && begins.allSatisfy { $0[2] == "0" })
        let cpu = lines.filter { $0[0] == "cpu" }
        #expect(cpu.count == 10 && cpu.allSatisfy { $0[2] == "[]" }, "no module without gpus sees the GPU: \(cpu)")
        // Rank 3 holds the GPU (the last of a host's ranks gets a lone device); the others have none.
        #expect(cpu.contains { $0[3] != "3" }, "some ran on a worker without a share: \(cpu)")
    }

    @Test func statusShowsTheGPUsInUseDuringARun() throws {
        let job = try MPIHarness.writeJob(Self.job.replacingOccurrences(of: "sleep 0.3", with: "sleep 3"))
        let folder = String(job.dropLast("/job.yml".count))
        let run = try MPIHarness.start(ranks: 3, ["run", "--gpus", "2", job])
        #expect(Clock.waitUntil(timeout: 30) { Files.read(folder + "/ledger").split(separator: "\n").filter { $0.hasPrefix("begin") }.count == 2 })
        let status = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(status.stdout.contains("GPUs in use: 2 (align 2)"), "one GPU per worker, both busy: \(status.stdout)")
        _ = try ChildProcess.run(["kill", "-TERM", String(run.pid)])
        _ = run.wait(timeout: 30)
    }

    @Test func aStageNoWorkerCanServeIsRefusedAtStart() throws {
        let job = try MPIHarness.writeJob(Self.job.replacingOccurrences(of: "gpus: 1", with: "gpus: 3"))
        let result = try MPIHarness.run(ranks: 3, ["run", "--gpus", "4", job])
        #expect(result.code == 2, "\(result.output)")
        #expect(result.output.contains("stage \"align\" needs 3 GPUs per instance, but the largest worker has 2 GPUs"), "\(result.output)")
        let negative = try ChildProcess.run([MPIHarness.cohort, "run", "--gpus", "-1", job])
        #expect(negative.code == 2 && negative.stderr.contains("--gpus -1: give a number of GPUs"), "\(negative.output)")
        let none = try MPIHarness.run(ranks: 2, ["run", job], environment: ["CUDA_VISIBLE_DEVICES": ""])
        #expect(none.code == 2 && none.output.contains("has no GPU"), "\(none.output)")
    }
}
