import CohortMPI
import CohortRun
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The process runner with real child processes (no MPI).
@Suite struct ModuleRunnerTests {
    func runToEnd(_ command: String, folder: String? = nil, timeout: Double = 20) throws -> TaskReport {
        let base = try TemporaryFolder.make(prefix: "runner")
        let runner = ModuleRunner(supervisorPath: MPIHarness.binaryFolder + "/cohort-supervise", rank: 5)
        let order = TaskOrder(instance: 7, name: "stage:sub", command: command, directory: base,
                              instanceFolder: folder ?? base + "/out/stage/sub",
                              environment: [.init(name: "GREETING", value: "hi")], cpus: 1)
        if let early = runner.start(order) { return early }
        var reports: [TaskReport] = []
        #expect(Clock.waitUntil(timeout: timeout) {
            reports += runner.reapFinished()
            return !reports.isEmpty
        })
        return try #require(reports.first)
    }

    @Test func successWritesLogsInTheInstanceFolder() throws {
        let base = try TemporaryFolder.make(prefix: "logs")
        let report = try runToEnd("echo out $GREETING $COHORT_RANK; echo err >&2; pwd", folder: base + "/a/b")
        #expect(report.outcome == .exited(0))
        #expect(report.instance == 7)
        #expect(report.peakMemoryKiB > 0)
        #expect(Files.read(base + "/a/b/stdout.log").hasPrefix("out hi 5\n"))
        #expect(Files.read(base + "/a/b/stderr.log") == "err\n")
    }

    @Test func exitStatusAndLogTail() throws {
        let report = try runToEnd("for i in 1 2 3 4 5 6 7; do echo line $i >&2; done; exit 42")
        #expect(report.outcome == .exited(42))
        #expect(report.logTail == "line 3\nline 4\nline 5\nline 6\nline 7")
    }

    @Test func deathBySignalIsReportedAsSuch() throws {
        let report = try runToEnd("kill -9 $$")
        #expect(report.outcome == .signaled(SIGKILL))
    }

    @Test func unwritableFolderCannotStart() throws {
        let report = try runToEnd("true", folder: "/proc/cohort-cannot-exist/x")
        guard case .couldNotStart(let reason) = report.outcome else {
            Issue.record("expected couldNotStart, got \(report.outcome)")
            return
        }
        #expect(reason.contains("cannot create folder /proc/cohort-cannot-exist"))
    }

    @Test func terminateStopsTheWholeGroupAfterGrace() throws {
        let base = try TemporaryFolder.make(prefix: "term")
        let runner = ModuleRunner(supervisorPath: MPIHarness.binaryFolder + "/cohort-supervise", rank: 1)
        runner.gracePeriod = 1
        // The module ignores SIGTERM and leaves a background child: both must go.
        let order = TaskOrder(instance: 1, name: "x", command: "trap '' TERM; sleep 100 & echo $! > bg.pid; sleep 100",
                              directory: base, instanceFolder: base + "/i", environment: [], cpus: 1)
        #expect(runner.start(order) == nil)
        #expect(Clock.waitUntil(timeout: 10) { !Files.read(base + "/bg.pid").isEmpty })
        let background = try #require(Int32(Files.read(base + "/bg.pid").filter { !$0.isWhitespace }))
        runner.terminateAll()
        var reports: [TaskReport] = []
        #expect(Clock.waitUntil(timeout: 10) {
            reports += runner.reapFinished()
            return !reports.isEmpty
        })
        #expect(reports.first?.outcome == .signaled(SIGKILL))
        #expect(Clock.waitUntil(timeout: 5) { !ProcessTable.isAlive(background) })
    }
}
