import CohortCore
import CohortRun
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The process runner with real child processes (no MPI).
@Suite struct ModuleRunnerTests {
    func runToEnd(_ command: String, folder: String? = nil, attemptFolder: String? = nil, aside: String? = nil,
                  itemsFile: String? = nil, timeout: Double = 20) throws -> TaskReport {
        let base = try TemporaryFolder.make(prefix: "runner")
        let runner = ModuleRunner(supervisorPath: MPIHarness.binaryFolder + "/cohort-supervise", rank: 5)
        var order = TaskOrder(instance: InstanceID(7), name: "stage:sub", command: command, directory: base,
                              instanceFolder: folder ?? base + "/out/stage/sub",
                              attemptFolder: attemptFolder ?? base + "/out/.attempts/stage/sub/1",
                              asideFolder: aside ?? base + "/out/.attempts/stage/sub/0/files",
                              stageEnvironment: [.init(name: "GREETING", value: "hi"),
                                            .init(name: "COHORT_WORKDIR", value: folder ?? base + "/out/stage/sub")], cpus: 1)
        order.itemsFile = itemsFile
        if let early = runner.start(order) { return early }
        var reports: [TaskReport] = []
        #expect(Clock.waitUntil(timeout: timeout) {
            reports += runner.reapFinished()
            return !reports.isEmpty
        })
        return try #require(reports.first)
    }

    /// A failed attempt leaves rerun.sh: its folder, environment and command,
    /// to rerun by hand; a success leaves no such file.
    @Test func aFailureLeavesAScriptThatRerunsItByHand() throws {
        let base = try TemporaryFolder.make(prefix: "rerun")
        let failed = try runToEnd("echo \"$GREETING it's $COHORT_RANK\" > \"$COHORT_WORKDIR/said\"; exit 7",
                                  folder: base + "/i", attemptFolder: base + "/a/1")
        #expect(failed.outcome == .exited(7))
        let script = base + "/a/1/rerun.sh"
        #expect(Files.exists(script))
        Files.write(base + "/i/said", "")
        let again = try ChildProcess.run(["env", "-i", "PATH=/usr/bin:/bin", "/bin/sh", script])
        #expect(again.code == 7, "the same command, the same outcome: \(again.output)")
        #expect(Files.read(base + "/i/said") == "hi it's 5\n", "with the same environment and folders")
        let succeeded = try runToEnd("true", folder: base + "/j", attemptFolder: base + "/b/1")
        #expect(succeeded.outcome == .succeeded)
        #expect(!Files.exists(base + "/b/1/rerun.sh"))
    }

    /// A generator's success carries the items it listed; a list that
    /// cannot be used (missing, or leaving the job folder) fails it.
    @Test func aGeneratorsSuccessCarriesItsItems() throws {
        let base = try TemporaryFolder.make(prefix: "items")
        let list = base + "/a/1/items"
        let listed = try runToEnd("printf 'raw/m1.tif\\n./raw/m2.tif\\n\\nraw/m1.tif\\n' > \"\(list)\"", attemptFolder: base + "/a/1", itemsFile: list)
        #expect(listed.outcome == .succeeded)
        #expect(listed.items == ["raw/m1.tif", "raw/m2.tif"])
        let none = try runToEnd(": > \"\(base)/b/1/items\"", attemptFolder: base + "/b/1", itemsFile: base + "/b/1/items")
        #expect(none.outcome == .succeeded && none.items == [], "finding nothing is a list")
        let escaping = try runToEnd("echo ../../etc > \"\(base)/c/1/items\"", attemptFolder: base + "/c/1", itemsFile: base + "/c/1/items")
        #expect(escaping.outcome == .badItems("line 1: \"../../etc\" leaves the job folder ('..')"))
        #expect(escaping.items == nil)
        let forgot = try runToEnd("true", attemptFolder: base + "/d/1", itemsFile: base + "/d/1/items")
        #expect(forgot.outcome.isFailure, "a generator that wrote no list fails: \(forgot.outcome)")
        let plain = try runToEnd("true", attemptFolder: base + "/e/1")
        #expect(plain.items == nil, "not a generator")
    }

    @Test func logsGoToTheAttemptFolderAndTheInstanceFolderIsCreated() throws {
        let base = try TemporaryFolder.make(prefix: "logs")
        let report = try runToEnd("echo out $GREETING $COHORT_RANK; echo err >&2; touch \"$COHORT_WORKDIR/result\"",
                                  folder: base + "/a/b", attemptFolder: base + "/.attempts/a/b/1")
        #expect(report.outcome == .succeeded)
        #expect(report.instance == InstanceID(7))
        #expect(report.peakMemoryKiB > 0)
        #expect(Files.read(base + "/.attempts/a/b/1/stdout.log").hasPrefix("out hi 5\n"))
        #expect(Files.read(base + "/.attempts/a/b/1/stderr.log") == "err\n")
        #expect(Files.exists(base + "/a/b/result"))
        #expect(!Files.exists(base + "/a/b/stdout.log"), "no logs among the results")
    }

    /// A retry or a rerun starts in an empty folder; what the earlier attempt
    /// left is kept aside in that attempt's folder, and its logs stay where they were.
    @Test func anAttemptNeverSeesAnEarlierAttemptsFiles() throws {
        let base = try TemporaryFolder.make(prefix: "clean")
        let first = try runToEnd("echo first; echo partial > \"$COHORT_WORKDIR/partial\"; exit 1",
                                 folder: base + "/out/s/x", attemptFolder: base + "/out/.attempts/s/x/1",
                                 aside: base + "/out/.attempts/s/x/0/files")
        #expect(first.outcome == .exited(1))
        let second = try runToEnd("echo second; echo seen $(ls -A \"$COHORT_WORKDIR\" | wc -l)",
                                  folder: base + "/out/s/x", attemptFolder: base + "/out/.attempts/s/x/2",
                                  aside: base + "/out/.attempts/s/x/1/files")
        #expect(second.outcome == .succeeded)
        #expect(Files.read(base + "/out/.attempts/s/x/1/files/partial") == "partial\n")
        #expect(Files.read(base + "/out/.attempts/s/x/1/stdout.log") == "first\n")
        #expect(Files.read(base + "/out/.attempts/s/x/2/stdout.log") == "second\nseen 0\n", "the second attempt saw files of the first")
    }

    /// Peak memory is the module tree's: not the worker's (~30 MB before the
    /// supervisor's exec), and the sum of processes that hold memory at once.
    @Test func peakMemoryIsTheModuleTrees() throws {
        let small = try runToEnd("true")
        #expect(small.peakMemoryKiB > 0 && small.peakMemoryKiB < 15_000, "\(small.peakMemoryKiB) KiB for `true`")
        let one = try runToEnd("head -c 100000000 /dev/zero | tail > /dev/null")
        #expect(one.peakMemoryKiB > 90_000, "\(one.peakMemoryKiB) KiB: a child holding 100 MB")
        // Each child peaks at ~100 MB while it reads, then holds ~50 MB: only
        // the sum over the tree, sampled while they wait, exceeds 130 MB.
        let three = try runToEnd("for i in 1 2 3; do sh -c 'x=$(head -c 50000000 /dev/zero | tr \"\\0\" a); sleep 2' & done; wait")
        #expect(three.peakMemoryKiB > 130_000, "\(three.peakMemoryKiB) KiB: three children holding ~50 MB each at once")
    }

    /// A link or a file where the instance folder goes is moved aside like a
    /// folder (the link itself: what it points to is left alone).
    @Test func aLinkOrAFileAtTheInstanceFolderIsMovedAside() throws {
        let base = try TemporaryFolder.make(prefix: "link")
        Files.write(base + "/elsewhere/kept", "data\n")
        Files.write(base + "/out/.keep", "")
        #expect(symlink(base + "/elsewhere", base + "/out/s") == 0)
        let linked = try runToEnd("echo seen $(ls -A \"$COHORT_WORKDIR\" | wc -l)", folder: base + "/out/s",
                                  attemptFolder: base + "/out/.attempts/s/1", aside: base + "/out/.attempts/s/0/files")
        #expect(linked.outcome == .succeeded, "\(linked)")
        #expect(Files.read(base + "/out/.attempts/s/1/stdout.log") == "seen 0\n")
        #expect(Files.read(base + "/elsewhere/kept") == "data\n")
        #expect(Files.read(base + "/out/.attempts/s/0/files/kept") == "data\n", "the link, moved aside")

        Files.write(base + "/out/t", "a file\n")
        let filed = try runToEnd("echo seen $(ls -A \"$COHORT_WORKDIR\" | wc -l)", folder: base + "/out/t",
                                 attemptFolder: base + "/out/.attempts/t/1", aside: base + "/out/.attempts/t/0/files")
        #expect(filed.outcome == .succeeded, "\(filed)")
        #expect(Files.read(base + "/out/.attempts/t/0/files") == "a file\n")
    }

    /// A stage folder linked to another file system (scratch): the earlier
    /// files stay on it, beside the instance folder, linked from the attempt folder.
    @Test(.enabled(if: FileSystems.differ("/tmp", "/dev/shm"), "needs /dev/shm on its own file system"))
    func anEarlierAttemptOnAnotherFileSystemStaysThere() throws {
        let base = try TemporaryFolder.make(prefix: "exdev")
        let scratch = "/dev/shm/cohort-exdev-\(getpid())"
        defer { _ = try? ChildProcess.run(["rm", "-rf", scratch], timeout: 30) }
        Files.write(scratch + "/x/partial", "partial\n")
        Files.write(base + "/out/.keep", "")
        #expect(symlink(scratch, base + "/out/s") == 0)
        let report = try runToEnd("echo seen $(ls -A \"$COHORT_WORKDIR\" | wc -l)", folder: base + "/out/s/x",
                                  attemptFolder: base + "/out/.attempts/s/x/2", aside: base + "/out/.attempts/s/x/1/files")
        #expect(report.outcome == .succeeded, "\(report)")
        #expect(Files.read(base + "/out/.attempts/s/x/2/stdout.log") == "seen 0\n")
        #expect(Files.read(scratch + "/.x.earlier/partial") == "partial\n", "kept on its own file system")
        #expect(Files.read(base + "/out/.attempts/s/x/1/files/partial") == "partial\n", "reached from the attempt folder")
    }

    /// Logs are made with their first byte: a module that prints nothing
    /// leaves no empty file and, when it succeeds, no attempt folder.
    @Test func aModuleThatPrintsNothingLeavesNoLogs() throws {
        let base = try TemporaryFolder.make(prefix: "quiet")
        let quiet = try runToEnd("true", folder: base + "/q", attemptFolder: base + "/.attempts/q/1")
        #expect(quiet.outcome == .succeeded)
        #expect(Files.exists(base + "/q"), "the instance folder is made")
        #expect(!Files.exists(base + "/.attempts/q/1"), "no attempt folder for an attempt with nothing to keep")
        let errors = try runToEnd("echo oops >&2; true", folder: base + "/e", attemptFolder: base + "/.attempts/e/1")
        #expect(errors.outcome == .succeeded)
        #expect(Files.read(base + "/.attempts/e/1/stderr.log") == "oops\n")
        #expect(!Files.exists(base + "/.attempts/e/1/stdout.log"), "no empty stdout.log beside it")
    }

    /// The supervisor reads the module's output as it comes: a module that
    /// writes far more than a pipe holds neither blocks nor loses a byte.
    @Test func largeOutputArrivesWhole() throws {
        let base = try TemporaryFolder.make(prefix: "large")
        let report = try runToEnd("seq 1 200000; echo err >&2",
                                  folder: base + "/l", attemptFolder: base + "/.attempts/l/1")
        #expect(report.outcome == .succeeded)
        let lines = Files.read(base + "/.attempts/l/1/stdout.log").split(separator: "\n")
        #expect(lines.count == 200_000, "every line of seq: \(lines.count)")
        #expect(lines.last == "200000")
        #expect(Files.read(base + "/.attempts/l/1/stderr.log") == "err\n")
    }

    /// Attempt numbers restart when a journal is lost: an attempt folder
    /// already in use is kept under another name, not mixed with the new one.
    @Test func aReusedAttemptFolderIsKeptAside() throws {
        let base = try TemporaryFolder.make(prefix: "reuse")
        Files.write(base + "/.attempts/s/1/stdout.log", "old\n")
        let report = try runToEnd("echo new", folder: base + "/s", attemptFolder: base + "/.attempts/s/1")
        #expect(report.outcome == .succeeded)
        #expect(Files.read(base + "/.attempts/s/1/stdout.log") == "new\n")
        #expect(Files.read(base + "/.attempts/s/1.earlier/stdout.log") == "old\n")
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

    /// An order for a module that runs until it is stopped, its folders under `base`.
    func longOrder(_ command: String, in base: String) -> TaskOrder {
        TaskOrder(instance: InstanceID(1), name: "x", command: command, directory: base, instanceFolder: base + "/i",
                  attemptFolder: base + "/a/1", asideFolder: base + "/a/0/files", stageEnvironment: [], cpus: 1)
    }

    /// A supervisor killed with SIGKILL (the OOM killer) cannot stop its
    /// module: the launcher adopts what it left and kills it, so a retry
    /// never runs beside an attempt that is still alive.
    @Test func aKilledSupervisorsModuleDoesNotLiveOn() throws {
        let base = try TemporaryFolder.make(prefix: "killed")
        let runner = ModuleRunner(supervisorPath: MPIHarness.binaryFolder + "/cohort-supervise", rank: 1)
        #expect(runner.start(longOrder("echo $$ > main.pid; setsid sleep 300 & echo $! > escaped.pid; sleep 300", in: base)) == nil)
        #expect(Clock.waitUntil(timeout: 10) { !Files.read(base + "/escaped.pid").isEmpty })
        let main = try #require(Int32(Files.read(base + "/main.pid").filter { !$0.isWhitespace }))
        let escaped = try #require(Int32(Files.read(base + "/escaped.pid").filter { !$0.isWhitespace }))
        let supervisor = try #require(ProcessTable.parent(of: main))
        kill(supervisor, SIGKILL)
        var reports: [TaskReport] = []
        #expect(Clock.waitUntil(timeout: 10) {
            reports += runner.reapFinished()
            return !reports.isEmpty
        })
        #expect(reports.first?.outcome == .signaled(SIGKILL))
        #expect(Clock.waitUntil(timeout: 5) { !ProcessTable.isAlive(main) && !ProcessTable.isAlive(escaped) },
                "the module \(main) and what it started \(escaped) outlived their supervisor")
    }

    @Test func terminateStopsTheWholeGroupAfterGrace() throws {
        let base = try TemporaryFolder.make(prefix: "term")
        let runner = ModuleRunner(supervisorPath: MPIHarness.binaryFolder + "/cohort-supervise", rank: 1)
        runner.gracePeriod = 1
        // The module ignores SIGTERM and leaves a background child: both must go.
        #expect(runner.start(longOrder("trap '' TERM; sleep 100 & echo $! > bg.pid; sleep 100", in: base)) == nil)
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
