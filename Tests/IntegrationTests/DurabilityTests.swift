import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Killed runs, signals, retries, timeouts, changes, a torn journal and the
/// lock, all with real processes under mpirun (DESIGN §5).
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct DurabilityTests {
    func folder(of job: String) -> String { String(job.dropLast("/job.yml".count)) }

    func history(_ job: String, study: String) -> JournalHistory {
        JournalHistory(text: Files.read(folder(of: job) + "/.cohort/\(study)/journal"))
    }

    /// Names whose success the journal holds.
    func succeeded(_ history: JournalHistory) -> Set<String> {
        Set(history.entries.filter { $0.value.success != nil }.map(\.key))
    }

    /// Waits until no rank of this job is left (after mpirun died).
    func waitForRanksToGo(_ job: String) {
        _ = Clock.waitUntil(timeout: 15) {
            ProcessTable.processes(matching: ["/cohort", "run", job]).allSatisfy { !ProcessTable.isAlive($0) }
        }
    }

    @Test(arguments: [0.8, 1.6, 2.6])
    func killNineOfMpirunThenRerunRedoesNothingFinished(after delay: Double) throws {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        let ledgerPath = folder(of: job) + "/ledger.txt"
        let environment = ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0.3"]
        let first = try MPIHarness.start(ranks: 3, ["run", job], environment: environment)
        Clock.sleep(delay)
        kill(first.pid, SIGKILL)
        _ = first.wait(timeout: 10)
        waitForRanksToGo(job)
        let doneBefore = succeeded(history(job, study: "demo"))
        let linesBefore = Ledger(path: ledgerPath).events.count

        let second = try MPIHarness.run(ranks: 3, ["run", job], environment: environment)
        #expect(second.code == 0, "\(second.output)")
        let events = Ledger(path: ledgerPath).events
        let rerun = events.dropFirst(linesBefore).filter(\.begin).map(\.instance)
        #expect(Set(rerun).isDisjoint(with: doneBefore), "finished instances ran again: \(Set(rerun).intersection(doneBefore))")
        #expect(succeeded(history(job, study: "demo")).count == 31)
        #expect(Files.read(folder(of: job) + "/out/group/report.txt").contains("subjects: 3"))
        if !doneBefore.isEmpty { #expect(second.stdout.contains("cohort: resuming from")) }
    }

    @Test func sigtermStopsWithinTenSecondsLeavesNoModuleAndRerunCompletes() throws {
        // Modules that take a moment to clean up, with a child in the background.
        let job = try MPIHarness.writeJob("""
            study: stop
            subjects: [a, b, c]
            stages:
              - name: long
                domain: subject
                run: "echo $$ >> {workdir}/../../pids; sleep ${HOLD:-0} & echo $! >> {workdir}/../../pids; trap 'sleep 1; exit 1' TERM; wait"
              - {name: after, domain: subject, run: "true"}
            """)
        let pids = folder(of: job) + "/out/pids"
        let run = try ChildProcess([repository + "/mpirun.sh", "-np", "3", job],
                                   environment: MPIHarness.environment(["COHORT_BIN": MPIHarness.binaryFolder, "HOLD": "120"]))
        #expect(Clock.waitUntil(timeout: 30) { Files.read(pids).split(separator: "\n").count >= 4 })
        let signalled = Clock.now
        run.signal(SIGTERM)
        let result = run.wait(timeout: 30)
        let took = Clock.now - signalled
        #expect(result.code == 143, "\(result.output)")
        #expect(took < 10, "took \(took) s to stop")
        #expect(result.stdout.contains("Stopped by SIGTERM (sent to mpirun.sh)"), "the signal the user sent is named")
        for pid in Files.read(pids).split(separator: "\n").compactMap({ Int32($0) }) {
            #expect(!ProcessTable.isAlive(pid), "module process \(pid) outlived the run")
        }
        let entries = history(job, study: "stop").entries
        #expect(entries.values.contains { $0.lastOutcome == .interrupted })
        #expect(entries.values.allSatisfy { $0.success == nil })

        let rerun = try MPIHarness.run(ranks: 3, ["run", job], environment: ["HOLD": "0"])
        #expect(rerun.code == 0, "\(rerun.output)")
        #expect(succeeded(history(job, study: "stop")).count == 6)
    }

    /// Ctrl-C pressed again and again: every one ends in 130, never in
    /// OpenMPI's crash (mpirun is never signalled itself). A login shell's
    /// OMP_NUM_THREADS=64 does not make mpirun.sh miscount the cores.
    @Test func repeatedInterruptsEndIn130WithoutACrash() throws {
        let job = try MPIHarness.writeJob("""
            study: again
            subjects: [a, b]
            stages:
              - {name: long, domain: subject, run: "touch {workdir}/started; trap '' TERM; sleep 60 & wait"}
            """)
        let run = try ChildProcess([repository + "/mpirun.sh", "-np", "3", job],
                                   environment: MPIHarness.environment(["COHORT_BIN": MPIHarness.binaryFolder, "OMP_NUM_THREADS": "64"]))
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder(of: job) + "/out/long/b/started") })
        let signalled = Clock.now
        for _ in 0..<3 {
            run.signal(SIGINT)
            Clock.sleep(0.3)
        }
        let result = run.wait(timeout: 30)
        let took = Clock.now - signalled
        // The modules ignore SIGTERM: only the second signal's "now" ends them before their 5 s of grace.
        #expect(took < 5, "took \(took) s")
        #expect(result.code == 130, "\(result.output)")
        #expect(!result.output.contains("Segmentation") && !result.output.lowercased().contains("backtrace"), "\(result.output)")
        #expect(result.stdout.contains("Stopped by SIGINT (sent to mpirun.sh)"), "\(result.stdout)")
        #expect(!result.stderr.contains("Primary job") && !result.stderr.contains("exited with non-zero status"),
                "OpenMPI's banners after an ordinary stop are left out: \(result.stderr)")
    }

    /// The terminal closes (its emulator killed): mpirun.sh gets SIGHUP and
    /// cannot write to the terminal any more; the run still stops cleanly.
    @Test func closingTheTerminalStopsTheRun() throws {
        let job = try MPIHarness.writeJob("""
            study: hangup
            subjects: [a]
            stages:
              - {name: long, domain: subject, run: "touch {workdir}/started; sleep 60"}
            """)
        let command = ["env", "COHORT_BIN=" + MPIHarness.binaryFolder, repository + "/mpirun.sh", "-np", "2", job]
            .map { "'\($0)'" }.joined(separator: " ")
        let terminal = try ChildProcess(["script", "-qfec", command, "/dev/null"], environment: MPIHarness.environment([:]))
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder(of: job) + "/out/long/a/started") })
        kill(terminal.pid, SIGKILL)
        _ = terminal.wait(timeout: 10)
        #expect(Clock.waitUntil(timeout: 30) {
            ProcessTable.processes(matching: ["/cohort", "run", job]).allSatisfy { !ProcessTable.isAlive($0) }
        }, "the run went on after its terminal closed")
        let journal = Files.read(folder(of: job) + "/.cohort/hangup/journal")
        #expect(journal.contains("reason=stopped by SIGHUP (sent to mpirun.sh)") || journal.contains("reason=stopped by SIGKILL (sent to mpirun.sh)"),
                "stopped cleanly, its end journaled: \(journal)")
    }

    /// `kill -9` of mpirun.sh (or its terminal closing): its watchdog stops
    /// the run cleanly instead of leaving it running unseen.
    @Test func killedLauncherStopsTheRunCleanly() throws {
        let job = try MPIHarness.writeJob("""
            study: orphan
            subjects: [a]
            stages:
              - {name: long, domain: subject, run: "touch {workdir}/started; sleep 60"}
            """)
        let temporary = try TemporaryFolder.make(prefix: "launcher-tmp")
        let run = try ChildProcess([repository + "/mpirun.sh", "-np", "2", job],
                                   environment: MPIHarness.environment(["COHORT_BIN": MPIHarness.binaryFolder, "TMPDIR": temporary]))
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder(of: job) + "/out/long/a/started") })
        kill(run.pid, SIGKILL)
        _ = run.wait(timeout: 10)
        #expect(Clock.waitUntil(timeout: 30) {
            ProcessTable.processes(matching: ["/cohort", "run", job]).allSatisfy { !ProcessTable.isAlive($0) }
        }, "the run went on after its launcher was killed")
        #expect(Clock.waitUntil(timeout: 10) { ProcessTable.processes(matching: ["mpirun.sh", job]).allSatisfy { !ProcessTable.isAlive($0) } },
                "the launcher's watchdog outlived the run")
        let journal = Files.read(folder(of: job) + "/.cohort/orphan/journal")
        #expect(journal.contains("reason=stopped by SIGKILL (sent to mpirun.sh)"), "\(journal)")
        let left = try ChildProcess.run(["sh", "-c", "ls -A \"$0\"", temporary], timeout: 10).stdout
        #expect(left.isEmpty, "mpirun.sh left files behind: \(left)")
    }

    /// A rank that dies where rank 0 cannot see it (here rank 0 itself, as
    /// a rank on a lost node): mpirun's notice is journaled by mpirun.sh.
    @Test func aRankMpirunSawDieIsJournaled() throws {
        let job = try MPIHarness.writeJob("""
            study: lostrank
            subjects: [a]
            stages:
              - {name: long, domain: subject, run: "touch {workdir}/started; sleep 60"}
            """)
        let run = try ChildProcess([repository + "/mpirun.sh", "-np", "2", job],
                                   environment: MPIHarness.environment(["COHORT_BIN": MPIHarness.binaryFolder]))
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder(of: job) + "/out/long/a/started") })
        let rankZero = ProcessTable.ranks(0, of: job)
        #expect(rankZero.count == 1)
        for pid in rankZero { kill(pid, SIGKILL) }
        let result = run.wait(timeout: 60)
        #expect(result.code != 0)
        #expect(result.stderr.contains("noticed that process rank 0"), "mpirun's own notice is shown: \(result.stderr)")
        let journal = Files.read(folder(of: job) + "/.cohort/lostrank/journal")
        #expect(journal.contains("\tdrain\trank=0\t"), "\(journal)")
        #expect(journal.contains("mpirun: exited on signal 9"))
    }

    @Test func rerunOfACompletedJobRunsNothingAndEnds() throws {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        let ledgerPath = folder(of: job) + "/ledger.txt"
        let environment = ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0"]
        #expect(try MPIHarness.run(ranks: 4, ["run", job], environment: environment).code == 0)
        let before = Ledger(path: ledgerPath).events.count
        let again = try MPIHarness.run(ranks: 4, ["run", job], environment: environment, timeout: 60)
        #expect(again.code == 0, "\(again.output)")
        #expect(again.stdout.contains("All 31 instances done (31 in earlier runs)."))
        #expect(Ledger(path: ledgerPath).events.count == before, "nothing ran again")
    }

    /// `cohort run job.yml | head -n 1`: the reader goes away after one line,
    /// and the run goes on to the end instead of dying of SIGPIPE.
    @Test func closedOutputPipeDoesNotKillTheRun() throws {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        let ledgerPath = folder(of: job) + "/ledger.txt"
        let piped = try ChildProcess.run(
            ["bash", "-c", "\"$0\" run \"$1\" --slots 2 | head -n 1 > /dev/null; echo \"cohort exited ${PIPESTATUS[0]}\"", MPIHarness.cohort, job],
            environment: ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0.05"], timeout: 120)
        #expect(piped.stdout.contains("cohort exited 0"), "\(piped.output)")
        let again = try ChildProcess.run([MPIHarness.cohort, "run", job], environment: ["DEMO_LEDGER": ledgerPath], timeout: 60)
        #expect(again.stdout.contains("All 31 instances done (31 in earlier runs)."), "\(again.output)")
    }

    /// Retries and reruns start clean: an attempt never sees what an earlier
    /// one left in its folder, and every attempt's logs are kept and named.
    @Test func flakyModuleIsRetriedInACleanFolderAndEveryAttemptsLogsAreKept() throws {
        let job = try MPIHarness.writeJob("""
            study: flaky
            stages:
              - name: flaky
                domain: study
                retries: 2
                run: "if [ -e {workdir}/partial ]; then echo saw an earlier attempt >&2; exit 9; fi; echo attempt $COHORT_ATTEMPT > {workdir}/partial; echo try $COHORT_ATTEMPT failed >&2; [ $COHORT_ATTEMPT -ge 2 ]"
              - name: never
                domain: study
                after: []
                retries: 1
                run: "echo broken $COHORT_ATTEMPT >&2; exit 5"
            """)
        let out = folder(of: job) + "/out"
        let result = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(result.code == 1)
        #expect(Files.read(out + "/flaky/partial") == "attempt 2\n", "the second attempt's result is the instance's")
        #expect(Files.read(out + "/.attempts/flaky/1/files/partial") == "attempt 1\n", "the first attempt's files are kept aside")
        #expect(Files.read(out + "/.attempts/flaky/1/stderr.log") == "try 1 failed\n")
        #expect(Files.read(out + "/.attempts/flaky/2/stderr.log") == "try 2 failed\n")
        #expect(result.stdout.contains("retry   flaky  retry 1 of 2 (attempt 2 over every run)"), "\(result.stdout)")
        #expect(result.stdout.contains("Done after retries (1):"))
        #expect(result.stdout.contains("flaky: attempt 1 exit status 1: logs \(out)/.attempts/flaky/1/stderr.log"), "\(result.stdout)")
        #expect(result.stdout.contains("never: exit status 5 (attempt 2)"))
        #expect(result.stdout.contains("logs: \(out)/.attempts/never/2/stderr.log"))
        #expect(result.stdout.contains("attempt 1 (exit status 5): logs \(out)/.attempts/never/1/stderr.log"))
        let journal = Files.read(folder(of: job) + "/.cohort/flaky/journal")
        // Failed attempts' ends say where their logs are; starts and successes do not.
        #expect(journal.contains("logs=out/.attempts/flaky/1\t"))
        #expect(journal.contains("logs=out/.attempts/never/1\t") && journal.contains("logs=out/.attempts/never/2\t"))
        #expect(!journal.contains("logs=out/.attempts/flaky/2\t"))
        #expect(!journal.split(separator: "\n").contains { $0.contains("\tstart\t") && $0.contains("\tlogs=") })
        let entries = history(job, study: "flaky").entries
        #expect(entries["flaky"]?.attempts == 2)
        #expect(entries["flaky"]?.success != nil)
        #expect(entries["never"]?.attempts == 2)

        // A forced rerun goes on numbering (attempt 3) and keeps attempt 2's result aside.
        let forced = try MPIHarness.run(ranks: 2, ["run", job, "--force", "flaky", "--only", "flaky"])
        #expect(forced.code == 0, "\(forced.output)")
        #expect(Files.read(out + "/flaky/partial") == "attempt 3\n")
        #expect(Files.read(out + "/.attempts/flaky/2/files/partial") == "attempt 2\n")
        #expect(Files.read(out + "/.attempts/flaky/1/stderr.log") == "try 1 failed\n")
    }

    @Test func timedOutModuleIsStoppedAndFails() throws {
        let job = try MPIHarness.writeJob("""
            study: slow
            stages:
              - {name: slow, domain: study, timeout: 1s, run: "echo $$ > {workdir}/pid; sleep 60"}
            """)
        let started = Clock.now
        let result = try MPIHarness.run(ranks: 2, ["run", job], timeout: 60)
        #expect(Clock.now - started < 20)
        #expect(result.code == 1)
        #expect(result.stdout.contains("slow: timed out"))
        #expect(history(job, study: "slow")["slow"]?.lastOutcome == .timedOut)
        let pid = Int32(Files.read(folder(of: job) + "/out/slow/pid").filter { !$0.isWhitespace })
        #expect(pid.map { !ProcessTable.isAlive($0) } == true)
    }

    @Test func changedRunLineRerunsExactlyItsStageAndDownstream() throws {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        let ledgerPath = folder(of: job) + "/ledger.txt"
        let environment = ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0"]
        #expect(try MPIHarness.run(ranks: 3, ["run", job], environment: environment).code == 0)
        let before = Ledger(path: ledgerPath).events.count

        Files.write(job, Files.read(job).replacingOccurrences(of: "run: sh modules/smooth.sh", with: "run: sh modules/smooth.sh --width 3"))
        let result = try MPIHarness.run(ranks: 3, ["run", job], environment: environment)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("smooth: 0 done earlier, 6 to run (6 run line changed)"))
        #expect(result.stdout.contains("firstlevel: 0 done earlier, 3 to run (3 upstream reruns)"))
        let rerun = Set(Ledger(path: ledgerPath).events.dropFirst(before).filter(\.begin).map(\.instance))
        let stages = Set(rerun.map { String($0.prefix { $0 != ":" }) })
        #expect(stages == ["smooth", "firstlevel", "group"])
        #expect(rerun.count == 6 + 3 + 1)

        let forcedBefore = Ledger(path: ledgerPath).events.count
        let forced = try MPIHarness.run(ranks: 3, ["run", job, "--force", "qa"], environment: environment)
        #expect(forced.code == 0)
        let forcedRun = Set(Ledger(path: ledgerPath).events.dropFirst(forcedBefore).filter(\.begin).map(\.instance))
        #expect(forcedRun == ["qa:sub-01", "qa:sub-02", "qa:sub-03", "group"])
    }

    @Test func tornJournalRecordIsIgnoredWithAWarning() throws {
        let job = try MPIHarness.writeJob("study: torn\nsubjects: [a, b]\nstages:\n  - {name: one, domain: subject, run: 'echo ran >> ran'}\n")
        #expect(try MPIHarness.run(ranks: 1, ["run", job]).code == 0)
        let journal = folder(of: job) + "/.cohort/torn/journal"
        // A run killed in the middle of writing its last record.
        Files.write(journal, Files.read(journal) + "cohort1\tend\tinstance=one:a\tatt")
        let result = try MPIHarness.run(ranks: 1, ["run", job])
        #expect(result.code == 0)
        #expect(result.stdout.contains("warning: \(journal):"))
        #expect(result.stdout.contains("record ignored: the last record was cut short"))
        #expect(Files.read(folder(of: job) + "/ran") == "ran\nran\n", "nothing ran twice")
        let repaired = JournalHistory(text: Files.read(journal))
        #expect(repaired.damaged.isEmpty, "the torn tail was cut off, later records start on a fresh line")
        #expect(repaired.runs == 2)
    }

    @Test func secondRunIsRefusedWhileTheFirstHoldsTheLock() throws {
        // The first run's module waits for the test, however slowly the second starts.
        let job = try MPIHarness.writeJob("study: locked\nstages:\n  - {name: wait, domain: study, run: 'touch {workdir}/started; while [ ! -e release ]; do sleep 0.1; done'}\n")
        let first = try MPIHarness.start(ranks: 2, ["run", job])
        defer { Files.write(folder(of: job) + "/release", "") }
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder(of: job) + "/out/wait/started") })
        let second = try MPIHarness.run(ranks: 1, ["run", job])
        #expect(second.code == 3)
        #expect(second.stderr.contains("another run holds this study's state (host "))
        #expect(second.stderr.contains(", pid "))
        Files.write(folder(of: job) + "/release", "")
        #expect(first.wait(timeout: 30).code == 0)
    }

    @Test func staleLockIsTakenOverWithAWarning() throws {
        let job = try MPIHarness.writeJob("study: stale\nstages:\n  - {name: one, domain: study, run: 'true'}\n")
        let state = folder(of: job) + "/.cohort/stale"
        #expect(mkdir(folder(of: job) + "/.cohort", 0o755) == 0 && mkdir(state, 0o755) == 0)
        Files.write(state + "/lock", "host gone, pid 99999, since 2026-01-01 00:00:00\n")
        let result = try MPIHarness.run(ranks: 1, ["run", job])
        #expect(result.code == 0)
        #expect(result.stderr.contains("taking over the lock of a run that ended without releasing it (host gone, pid 99999"))
    }

    @Test func badInputLeavesTheJournalUntouched() throws {
        let job = try MPIHarness.writeJob("study: keep\nsubjects: [a]\nstages:\n  - {name: one, domain: subject, run: 'true'}\n")
        #expect(try MPIHarness.run(ranks: 1, ["run", job]).code == 0)
        let journal = folder(of: job) + "/.cohort/keep/journal"
        let before = Files.read(journal)
        let cases = [
            ("study: keep\nsubjects: [a]\nstages:\n  - {name: one, domain: subjct, run: 'true'}\n", ":4: stages[0].domain"),
            ("study: keep\nsubjects: [a]\nstages:\n  - {name: one, domain: subject, run: 'sh modules/missing.sh'}\n",
             ":4: stages[0].run: modules/missing.sh does not exist"),
            ("study: keep\nworkdir: /proc/nowhere\nsubjects: [a]\nstages:\n  - {name: one, domain: subject, run: 'true'}\n",
             "workdir: cannot create folder /proc/nowhere"),
        ]
        for (text, message) in cases {
            Files.write(job, text)
            let result = try MPIHarness.run(ranks: 2, ["run", job])
            #expect(result.code == 2, "\(result.output)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
            #expect(Files.read(journal) == before)
        }
    }
}

/// A worker rank killed with -9 ends the MPI job (OpenMPI's default); the
/// journal stays intact and the rerun finishes without redoing anything.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct DeadWorkerTests {
    @Test func killedWorkerEndsTheJobAndTheRerunCompletes() throws {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        let folder = String(job.dropLast("/job.yml".count))
        let ledgerPath = folder + "/ledger.txt"
        let environment = ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0.4"]
        let first = try MPIHarness.start(ranks: 3, ["run", job], environment: environment)
        #expect(Clock.waitUntil(timeout: 30) { Ledger(path: ledgerPath).events.filter { !$0.begin }.count >= 4 })
        let worker = try #require(ProcessTable.ranks(2, of: job).first)
        kill(worker, SIGKILL)
        let killed = Clock.now
        let result = first.wait(timeout: 30)
        let ended = Clock.now - killed
        #expect(result.code != 0)
        #expect(ended < 10, "mpirun took \(ended) s to end the job")
        _ = Clock.waitUntil(timeout: 10) {
            ProcessTable.processes(matching: ["modules/", ".sh"]).filter { ProcessTable.environment(of: $0)["DEMO_LEDGER"] == ledgerPath }
                .allSatisfy { !ProcessTable.isAlive($0) }
        }
        let history = JournalHistory(text: Files.read(folder + "/.cohort/demo/journal"))
        #expect(history.damaged.isEmpty || history.damaged.count == 1 && history.endsTorn)
        let doneBefore = Set(history.entries.filter { $0.value.success != nil }.map(\.key))
        let linesBefore = Ledger(path: ledgerPath).events.count

        let second = try MPIHarness.run(ranks: 3, ["run", job], environment: environment)
        #expect(second.code == 0, "\(second.output)")
        let rerun = Set(Ledger(path: ledgerPath).events.dropFirst(linesBefore).filter(\.begin).map(\.instance))
        #expect(rerun.isDisjoint(with: doneBefore))
        #expect(rerun.count + doneBefore.count == 31)
    }
}
