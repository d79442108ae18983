import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Ranks do not spin while they wait, and modules never outlive their worker.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct ProcessHygieneTests {
    /// OpenMPI's blocking calls burn a core while waiting (NOTES-MPI); every
    /// rank here waits (for a module, or for nothing) and must stay under 5 %.
    @Test(arguments: [1, 3])
    func waitingRanksUseLittleCPU(ranks: Int) throws {
        let job = try MPIHarness.writeJob("""
            study: idle
            stages:
              - {name: wait, domain: study, run: "touch {workdir}/started; sleep 4"}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let mpirun = try MPIHarness.start(ranks: ranks, ["run", job])
        defer { _ = mpirun.wait(timeout: 30) }
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder + "/out/wait/started") })
        let ranksOfThisJob = ProcessTable.processes(matching: ["/cohort", "run", job]).filter {
            !Files.read("/proc/\($0)/cmdline").hasPrefix("mpirun")
        }
        #expect(ranksOfThisJob.count == ranks)
        let before = ranksOfThisJob.map { ProcessTable.cpuSeconds($0) ?? 0 }
        let start = Clock.now
        Clock.sleep(2)
        let after = ranksOfThisJob.map { ProcessTable.cpuSeconds($0) ?? 0 }
        let elapsed = Clock.now - start
        for (pid, (used, previous)) in zip(ranksOfThisJob, zip(after, before)) {
            let share = (used - previous) / elapsed
            #expect(share < 0.05, "rank process \(pid) used \(Int(share * 100)) % of a core while waiting")
        }
        #expect(mpirun.wait(timeout: 30).code == 0)
    }

    /// kill -9 of a worker rank: OpenMPI ends the job, and the module and
    /// what it started in the background are gone too.
    @Test func modulesDieWithTheirWorker() throws {
        let job = try MPIHarness.writeJob("""
            study: orphans
            stages:
              - name: long
                domain: study
                run: "sleep 300 & echo $! > {workdir}/background.pid; echo $$ > {workdir}/main.pid; wait"
            """)
        let folder = String(job.dropLast("/job.yml".count)) + "/out/long"
        let mpirun = try MPIHarness.start(ranks: 2, ["run", job])
        #expect(Clock.waitUntil(timeout: 30) {
            !Files.read(folder + "/main.pid").isEmpty && !Files.read(folder + "/background.pid").isEmpty
        })
        let main = try #require(Int32(Files.read(folder + "/main.pid").trimmingCharacters()))
        let background = try #require(Int32(Files.read(folder + "/background.pid").trimmingCharacters()))
        let supervisor = try #require(ProcessTable.parent(of: main))
        let launcher = try #require(ProcessTable.parent(of: supervisor))
        let worker = try #require(ProcessTable.parent(of: launcher))
        #expect(Files.read("/proc/\(launcher)/cmdline").contains("--serve"))
        #expect(Files.read("/proc/\(worker)/cmdline").contains("cohort"))
        let rank = ProcessTable.environment(of: worker)["OMPI_COMM_WORLD_RANK"] ?? "?"
        kill(worker, SIGKILL)
        let result = mpirun.wait(timeout: 30)
        #expect(result.code != 0, "the MPI job ends when a rank dies")
        #expect(result.stdout.contains("died    rank \(rank) on "), "the dead rank is named: \(result.output)")
        let journal = Files.read(String(job.dropLast("/job.yml".count)) + "/.cohort/orphans/journal")
        #expect(journal.contains("\tdrain\trank=\(rank)\t"), "and journaled: \(journal)")
        #expect(Clock.waitUntil(timeout: 10) { !ProcessTable.isAlive(main) && !ProcessTable.isAlive(background) },
                "module processes \(main) and \(background) outlived their worker")
    }

    /// mpirun itself killed (`kill -9`, the OOM killer) prints nothing:
    /// mpirun.sh says so instead of pointing at a message about a rank.
    @Test func mpirunKilledIsSaidAsSuch() throws {
        let job = try MPIHarness.writeJob("""
            study: killed
            subjects: [a]
            stages:
              - {name: long, domain: subject, run: "touch {workdir}/started; sleep 60"}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let run = try ChildProcess([repository + "/mpirun.sh", "-np", "2", job],
                                   environment: MPIHarness.environment(["COHORT_BIN": MPIHarness.binaryFolder]))
        defer {
            // Ranks left without their mpirun end on their own; these are ours if not.
            for rank in ProcessTable.processes(matching: ["/cohort", "run", job])
            where Files.read("/proc/\(rank)/comm").trimmingCharacters() == "cohort" { kill(rank, SIGKILL) }
        }
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder + "/out/long/a/started") })
        let mpirun = ProcessTable.processes(matching: ["mpirun", job]).filter { Files.read("/proc/\($0)/comm").trimmingCharacters() == "mpirun" }
        #expect(mpirun.count == 1, "\(mpirun)")
        for pid in mpirun { kill(pid, SIGKILL) }
        let result = run.wait(timeout: 60)
        #expect(result.code == 137, "\(result.output)")
        #expect(result.stderr.contains("(mpirun exit 137: mpirun itself ended on SIGKILL)"), "\(result.stderr)")
    }
}

extension ProcessHygieneTests {
    /// kill -9 of a worker's launcher (what the OOM killer might do): the
    /// module it ran is stopped and fails with the reason in its log, and the
    /// worker starts a new launcher for what comes next (here, its retry).
    @Test func aDeadLauncherFailsItsModulesAndIsReplaced() throws {
        let job = try MPIHarness.writeJob("""
            study: launcher
            stages:
              - name: work
                domain: study
                retries: 1
                run: "echo $$ > {workdir}/main.pid; if [ $COHORT_ATTEMPT = 1 ]; then sleep 300; fi"
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let mpirun = try MPIHarness.start(ranks: 1, ["run", job])
        #expect(Clock.waitUntil(timeout: 30) { !Files.read(folder + "/out/work/main.pid").isEmpty })
        let main = try #require(Int32(Files.read(folder + "/out/work/main.pid").trimmingCharacters()))
        let supervisor = try #require(ProcessTable.parent(of: main))
        let launcher = try #require(ProcessTable.parent(of: supervisor))
        #expect(Files.read("/proc/\(launcher)/cmdline").contains("--serve"))
        kill(launcher, SIGKILL)
        let result = mpirun.wait(timeout: 60)
        #expect(result.code == 0, "the retry ran under a new launcher: \(result.output)")
        #expect(!ProcessTable.isAlive(main), "the first attempt's module was stopped")
        #expect(Files.read(folder + "/out/.attempts/work/1/stderr.log").contains("launcher (cohort-supervise) died"))
        #expect(result.stdout.contains("All 1 instances done."), "\(result.output)")
    }

    /// `setsid` and a double fork take a process out of the module's group
    /// and session; it still ends with the instance, and the run goes on.
    @Test func processesThatLeaveTheModulesGroupEndWithTheInstance() throws {
        let job = try MPIHarness.writeJob("""
            study: escape
            stages:
              - name: escape
                domain: study
                run: |
                  setsid sleep 301 > /dev/null 2>&1 < /dev/null &
                  echo $! > {workdir}/setsid.pid
                  ( sh -c 'sleep 302 & echo $! > "$0"' {workdir}/double.pid & ) > /dev/null 2>&1
                  sleep 0.3
              - name: after
                domain: study
                run: "true"
            """)
        let folder = String(job.dropLast("/job.yml".count)) + "/out/escape"
        let result = try MPIHarness.run(ranks: 2, ["run", job], timeout: 60)
        #expect(result.code == 0, "\(result.output)")
        let escaped = try ["setsid", "double"].map { try #require(Int32(Files.read(folder + "/\($0).pid").trimmingCharacters())) }
        for pid in escaped {
            #expect(Clock.waitUntil(timeout: 5) { !ProcessTable.isAlive(pid) || !Files.read("/proc/\(pid)/cmdline").hasPrefix("sleep") },
                    "process \(pid) (\(Files.read("/proc/\(pid)/cmdline"))) outlived its instance")
            if ProcessTable.isAlive(pid), Files.read("/proc/\(pid)/cmdline").hasPrefix("sleep") { kill(pid, SIGKILL) }
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(self.filter { !$0.isWhitespace })
    }
}
