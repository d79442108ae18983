import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The sbatch wrappers on a real Slurm brought up on this machine
/// (`scripts/slurm-local.sh`): two slurmd posing as nodes n1 and n2.
/// Needs root; under CI=true it always runs.
@Suite(.serialized, .enabled(if: SlurmHarness.shouldRun, "needs root and mpirun (CI=true runs it)"))
struct SlurmTests {
    @Test func wrappersRunTheDemoOnRealSlurm() throws {
        let slurm = try SlurmHarness.up()
        defer { slurm.down() }
        let started = Clock.now

        // One node: everything on n1.
        let single = try slurm.submitDemo(script: "one-node.sbatch", options: ["--nodes=1", "--cpus-per-task=4", "--mem=1G", "--time=5"])
        #expect(single.output.contains("All 31 instances done."), "\(single.output)")
        #expect(single.ledger.hosts == ["n1"])
        #expect(single.succeeded == 31)

        // Many nodes: one worker rank per node, instances on both.
        let many = try slurm.submitDemo(script: "many-nodes.sbatch", options: ["--nodes=2", "--cpus-per-task=2", "--mem=1G", "--time=5"])
        #expect(many.output.contains("All 31 instances done."), "\(many.output)")
        #expect(many.output.contains("(2 cpus, 1G memory)"), "capacity from Slurm's environment")
        #expect(many.ledger.hosts == ["n1", "n2"])
        #expect(many.ledger.violations(of: many.graph) == [])
        print("Slurm one-node and many-nodes tests took \(Int(Clock.now - started)) s")
    }

    /// A stage spanning both nodes of the allocation: its module's own
    /// `mpirun --hostfile "$COHORT_HOSTFILE"` starts ranks on the nodes
    /// Cohort reserved for it (DESIGN §7).
    @Test func aMultiNodeStagesMPIProgramRunsOnTheNodesOfTheAllocation() throws {
        let slurm = try SlurmHarness.up()
        defer { slurm.down() }
        var folder = ""
        let run = try slurm.submitDemo(script: "many-nodes.sbatch", options: ["--nodes=2", "--cpus-per-task=2", "--mem=1G", "--time=5"],
                                       jobText: """
            study: demo
            stages:
              - name: refine
                domain: study
                nodes: 2
                cpus: 2
                run: |
                  echo "$COHORT_NODES" > {workdir}/nodes
                  mpirun --hostfile "$COHORT_HOSTFILE" -np 4 --bind-to none sh -c 'echo "$SLURMD_NODENAME"' > {workdir}/ranks
            """, prepare: { folder = String($0.dropLast("/job.yml".count)) })
        #expect(run.output.contains("All 1 instances done."), "\(run.output)")
        #expect(Files.read(folder + "/out/refine/nodes") == "n1,n2\n" || Files.read(folder + "/out/refine/nodes") == "n2,n1\n")
        let ranks = Files.read(folder + "/out/refine/ranks").split(separator: "\n").map(String.init).sorted()
        #expect(ranks == ["n1", "n1", "n2", "n2"], "two ranks on each node, as its hostfile says (Slurm gave one task per node): \(ranks)")
    }

    /// A time limit too short for the whole study: the wrapper resubmits
    /// itself, each job resumes from the journal, and no instance is done twice.
    /// The study's critical path (6 levels of 16 s) outlasts a one-minute job
    /// even when Slurm kills it 30 s late. The study was done once before and
    /// the chain starts with `--force convert` (redoing everything, by
    /// lineage): the successors, given the same arguments, complete it and
    /// never force it again.
    @Test func resubmittingWrapperFinishesAForcedRerunOverSeveralJobs() throws {
        let slurm = try SlurmHarness.up()
        defer { slurm.down() }
        let started = Clock.now
        let options = ["--nodes=2", "--cpus-per-task=4", "--mem=1G", "--time=1", "--signal=B:USR1@10"]
        let run = try slurm.submitDemo(
            script: "resubmit.sbatch", options: options, arguments: ["--force", "convert"], delay: "16",
            successorOptions: options, extra: ["COHORT_MAX_SUBMISSIONS": "10", "COHORT_STOP_LEAD": "10"], timeout: 900,
            prepare: { job in
                let first = try ChildProcess.run([MPIHarness.cohort, "run", job], environment: ["DEMO_DELAY": "0"], timeout: 120)
                #expect(first.code == 0, "\(first.output)")
            })
        #expect(run.jobs >= 2, "the study should need more than one job")
        #expect(run.succeeded == 31, "\(run.output)")
        #expect(run.successesPerInstance.values.allSatisfy { $0 == 2 },
                "each instance done once before, once by the chain: \(run.successesPerInstance.filter { $0.value != 2 })")
        #expect(run.output.contains("convert: 0 done earlier, 6 to run (6 forced)"))
        #expect(run.output.contains("--force request chain-"), "successors complete the journaled force")
        #expect(run.output.contains("queued"))
        #expect(run.output.contains("the chain ends here"))
        print("Slurm resubmission test took \(Int(Clock.now - started)) s over \(run.jobs) jobs")
    }

    /// A rank that dies in every job (a broken node): the wrapper carries on
    /// after the first loss (exit 137 is not the end of a chain), and ends
    /// the chain after two submissions in a row that finished nothing new.
    @Test func resubmittingWrapperStopsAfterTwoJobsThatFinishNothing() throws {
        let slurm = try SlurmHarness.up()
        defer { slurm.down() }
        let options = ["--nodes=1", "--cpus-per-task=2", "--mem=500M", "--time=5"]
        let run = try slurm.submitDemo(
            script: "resubmit.sbatch", options: options, successorOptions: options, extra: ["COHORT_MAX_SUBMISSIONS": "5"],
            timeout: 300, jobText: """
                study: lost
                subjects: [a]
                stages:
                  - {name: die, domain: subject, run: "p=$PPID; while [ $p -gt 1 ] && [ $(cat /proc/$p/comm) != cohort ]; do p=$(cut -d' ' -f4 /proc/$p/stat); done; kill -9 $p; sleep 5"}
                """)
        #expect(run.jobs == 2, "\(run.output)")
        #expect(run.output.contains("stopped before the end (exit "), "\(run.output)")
        #expect(run.output.contains("two submissions in a row finished nothing new"), "\(run.output)")
    }
}

/// Brings the local Slurm up and down, and submits the demo to it.
struct SlurmHarness {
    static var shouldRun: Bool { MPIHarness.isCI || (getuid() == 0 && MPIHarness.mpirunAvailable) }
    static let folder = "/tmp/cohort-slurm-tests"
    var environment: [String: String]

    struct Outcome {
        var output: String
        var ledger: Ledger
        var graph: InstanceGraph
        var succeeded: Int
        var successesPerInstance: [String: Int]
        var jobs: Int
    }

    static func up() throws -> SlurmHarness {
        let environment = ["SLURM_LOCAL_DIR": folder]
        let result = try ChildProcess.run([repository + "/scripts/slurm-local.sh", "up"], environment: environment, timeout: 300)
        guard result.code == 0 else {
            _ = try? ChildProcess.run([repository + "/scripts/slurm-local.sh", "down"], environment: environment, timeout: 60)
            throw ChildProcess.SpawnFailure(description: "slurm-local up failed: \(result.output)")
        }
        return SlurmHarness(environment: environment.merging(["SLURM_CONF": folder + "/slurm.conf"]) { $1 })
    }

    func down() {
        _ = try? ChildProcess.run([repository + "/scripts/slurm-local.sh", "down"], environment: environment, timeout: 60)
    }

    /// Copies the demo, submits `script` from its folder and waits until no job of it is left.
    func submitDemo(script: String, options: [String], arguments: [String] = [], delay: String = "0.05",
                    successorOptions: [String]? = nil, extra: [String: String] = [:], timeout: Double = 300,
                    jobText: String? = nil, prepare: (String) throws -> Void = { _ in }) throws -> Outcome {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        if let jobText { Files.write(job, jobText) }
        try prepare(job)
        let folder = String(job.dropLast("/job.yml".count))
        let output = "--output=\(folder)/slurm-%j.out"
        var variables = MPIHarness.environment(environment)
        // Fake nodes share /dev/shm: OpenMPI's shared-memory transport would collide (NOTES-SLURM).
        variables["OMPI_MCA_btl"] = "self,tcp"
        variables["COHORT_HOME"] = repository
        variables["COHORT_BIN"] = MPIHarness.binaryFolder
        variables["DEMO_LEDGER"] = folder + "/ledger.txt"
        variables["DEMO_DELAY"] = delay
        for (name, value) in extra { variables[name] = value }
        if let successorOptions { variables["COHORT_SBATCH_OPTIONS"] = (successorOptions + [output]).joined(separator: " ") }
        let name = "cohort-test-\(getpid())-\(Int(Clock.now * 1000) % 1_000_000)"
        let submitted = try ChildProcess.run(
            ["sbatch", "--parsable", "--job-name=\(name)", "--chdir=\(folder)", output]
                + options + ["\(repository)/jobs/slurm/\(script)", "job.yml"] + arguments,
            environment: variables, timeout: 60)
        guard submitted.code == 0 else { throw ChildProcess.SpawnFailure(description: "sbatch failed: \(submitted.output)") }
        let finished = Clock.waitUntil(timeout: timeout) {
            guard let queue = try? ChildProcess.run(["squeue", "-h", "-n", name, "-o", "%i"], environment: variables, timeout: 30) else { return false }
            return queue.code == 0 && queue.stdout.trimmingCharacters().isEmpty
        }
        #expect(finished, "jobs of \(name) still queued after \(Int(timeout)) s")
        let outputs = (try? ChildProcess.run(["sh", "-c", "cat \(folder)/slurm-*.out"], timeout: 30).stdout) ?? ""
        let jobs = (try? ChildProcess.run(["sh", "-c", "ls \(folder)/slurm-*.out | wc -l"], timeout: 30).stdout.trimmingCharacters()) ?? "0"
        let journal = Files.read(folder + "/.cohort/demo/journal")
        var successes: [String: Int] = [:]
        for line in journal.split(separator: "\n") {
            if case .finished(let attempt, let ending)? = try? JournalFormat.decode(line), ending.outcome == .succeeded {
                successes[attempt.instance, default: 0] += 1
            }
        }
        let graph = try InstanceGraph(job: JobLoader.load(text: Files.read(job), file: job))
        return Outcome(output: outputs, ledger: Ledger(path: folder + "/ledger.txt"), graph: graph,
                       succeeded: successes.count, successesPerInstance: successes, jobs: Int(jobs) ?? 0)
    }
}
