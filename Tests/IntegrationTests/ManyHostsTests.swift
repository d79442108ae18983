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
}
