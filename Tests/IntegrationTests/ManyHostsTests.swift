import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One job across three hosts made as network namespaces on this machine,
/// with real OpenMPI TCP traffic between them (`scripts/netns-hosts.sh`).
/// Needs root; under CI=true it always runs.
@Suite(.serialized, .enabled(if: SlurmHarness.shouldRun, "needs root and mpirun (CI=true runs it)"))
struct ManyHostsTests {
    @Test func demoRunsOnEveryHostAndTheJournalIsComplete() throws {
        let script = repository + "/scripts/netns-hosts.sh"
        let up = try ChildProcess.run([script, "up", "3"], timeout: 300)
        defer { _ = try? ChildProcess.run([script, "down"], timeout: 60) }
        #expect(up.code == 0, "\(up.output)")
        let started = Clock.now

        let job = try MPIHarness.copyJob("demo", repository: repository)
        let folder = String(job.dropLast("/job.yml".count))
        let mpirun = [
            "mpirun", "--mca", "plm_rsh_agent", "\(script) agent",
            "--mca", "oob_tcp_if_include", "10.77.0.0/24", "--mca", "btl_tcp_if_include", "10.77.0.0/24",
            "--mca", "btl", "self,tcp", "--host", "10.77.0.11:2,10.77.0.12:1,10.77.0.13:1",
            "-np", "4", "--bind-to", "none", "--stdin", "none", "-q", MPIHarness.cohort, "run", job,
        ].map { "'\($0)'" }.joined(separator: " ")
        let result = try ChildProcess.run(
            [script, "exec", "h1", mpirun],
            environment: MPIHarness.environment(["DEMO_LEDGER": folder + "/ledger.txt", "DEMO_DELAY": "0.05"]),
            timeout: 180)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("rank 2 on h2"))
        #expect(result.stdout.contains("rank 3 on h3"))

        let ledger = Ledger(path: folder + "/ledger.txt")
        #expect(ledger.hosts == ["h1", "h2", "h3"], "instances ran on every host")
        let graph = try InstanceGraph(job: JobLoader.load(text: Files.read(job), file: job))
        #expect(ledger.violations(of: graph) == [])
        let history = JournalHistory(text: Files.read(folder + "/.cohort/demo/journal"))
        #expect(history.damaged.isEmpty)
        #expect(history.entries.values.filter { $0.success != nil }.count == 31, "the journal is complete")
        print("Multi-host test (3 network namespaces) took \(Int(Clock.now - started)) s")
    }

    /// A stage spanning two hosts (DESIGN §7): its module runs once and
    /// starts an MPI program over `$COHORT_HOSTFILE`, whose ranks run on the
    /// two hosts Cohort reserved for it.
    @Test func aMultiNodeStagesMPIProgramRunsOnTheHostsItWasGiven() throws {
        let script = repository + "/scripts/netns-hosts.sh"
        let up = try ChildProcess.run([script, "up", "3"], timeout: 300)
        defer { _ = try? ChildProcess.run([script, "down"], timeout: 60) }
        #expect(up.code == 0, "\(up.output)")
        let job = try MPIHarness.writeJob("""
            study: span
            stages:
              - name: refine
                domain: study
                nodes: 2
                gpus: 1
                run: |
                  echo "$COHORT_NODES" > {workdir}/nodes
                  echo "$COHORT_NODE_GPUS" > {workdir}/gpus
                  cp "$COHORT_HOSTFILE" {workdir}/hostfile
                  mpirun --mca plm_rsh_agent "\(script) agent" --mca oob_tcp_if_include 10.77.0.0/24 \\
                    --mca btl_tcp_if_include 10.77.0.0/24 --mca btl self,tcp --bind-to none \\
                    --hostfile "$COHORT_HOSTFILE" -np 2 hostname > {workdir}/ranks
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let mpirun = [
            "mpirun", "--mca", "plm_rsh_agent", "\(script) agent",
            "--mca", "oob_tcp_if_include", "10.77.0.0/24", "--mca", "btl_tcp_if_include", "10.77.0.0/24",
            "--mca", "btl", "self,tcp", "--host", "10.77.0.11:2,10.77.0.12:1,10.77.0.13:1",
            "-np", "4", "--bind-to", "none", "--stdin", "none", "-q", MPIHarness.cohort, "run", job, "--gpus", "1",
        ].map { "'\($0)'" }.joined(separator: " ")
        let result = try ChildProcess.run([script, "exec", "h1", mpirun], environment: MPIHarness.environment(), timeout: 180)
        #expect(result.code == 0, "\(result.output)")
        let nodes = Files.read(folder + "/out/refine/nodes").trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
        #expect(nodes.count == 2 && Set(nodes).count == 2, "two distinct hosts: \(nodes)")
        #expect(Files.read(folder + "/out/refine/hostfile") == nodes.map { "\($0) slots=1\n" }.joined())
        let ranks = Files.read(folder + "/out/refine/ranks").split(separator: "\n").map(String.init).sorted()
        #expect(ranks == nodes.sorted(), "its MPI program's ranks ran on the hosts it was given: \(ranks)")
        #expect(Files.read(folder + "/out/refine/gpus") == nodes.map { "\($0)=0" }.joined(separator: " ") + "\n", "each node's own GPU")
        // The report draws it on both workers it held.
        let spans = JournalTimeline(text: Files.read(folder + "/.cohort/span/journal")).runs[0].spans.filter { $0.instance == "refine" }
        #expect(Set(spans.map(\.host)) == Set(nodes) && spans.filter { !$0.heldOnly }.count == 1, "\(spans)")
        let report = try ChildProcess.run([MPIHarness.cohort, "report", job, "-o", folder + "/report.html"])
        #expect(report.code == 0 && report.stdout.contains("(1 attempts)"), "one attempt, drawn on two workers: \(report.output)")
    }
}
