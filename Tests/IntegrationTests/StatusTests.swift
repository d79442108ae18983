import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `cohort status` reads the journal from another shell, during a run and after.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct StatusTests {
    @Test func statusShowsProgressRunningAndFailures() throws {
        let job = try MPIHarness.writeJob("""
            study: watch
            subjects: [a, b, c]
            stages:
              - {name: quick, domain: subject, run: "[ {subject} != c ]"}
              - {name: slow, domain: subject, run: "touch {workdir}/started; sleep 3"}
            """)
        let before = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(before.stdout.contains("no run yet"))

        let run = try MPIHarness.start(ranks: 3, ["run", job])
        let folder = String(job.dropLast("/job.yml".count))
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder + "/out/slow/a/started") })
        let during = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(during.code == 0)
        #expect(during.stdout.contains("a run holds the study (host "))
        #expect(during.stdout.contains("  quick      2       1        0       0      3"), "\(during.stdout)")
        #expect(during.stdout.contains("quick:c: exit status 1 (attempt 1)"))
        #expect(during.stdout.contains("logs: \(folder)/out/.attempts/quick/c/1/stderr.log"))
        let running = during.stdout.split(separator: "\n").first { $0.hasPrefix("  slow") }.map(String.init) ?? ""
        #expect(running.split(separator: " ").dropFirst(3).first.flatMap { Int($0) } ?? 0 >= 1, "slow instances are running: \(running)")
        #expect(run.wait(timeout: 60).code == 1)

        let after = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(after.stdout.contains("no run is active"))
        #expect(after.stdout.contains("  slow       2       0        0       1      3"), "\(after.stdout)")
    }

    /// After `kill -9` of the run, the lock file still holds its note: the
    /// status probes the lock, says the run died and when, and shows nothing running.
    @Test func statusAfterAHardKillSaysTheRunDied() throws {
        let job = try MPIHarness.writeJob("""
            study: killed
            subjects: [a, b]
            stages:
              - {name: slow, domain: subject, run: "touch {workdir}/started; sleep 30"}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        let run = try ChildProcess([MPIHarness.cohort, "run", job, "--slots", "2"])
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder + "/out/slow/b/started") && Files.exists(folder + "/out/slow/a/started") })
        kill(run.pid, SIGKILL)
        _ = run.wait(timeout: 30)
        #expect(!Files.read(folder + "/.cohort/killed/lock").isEmpty, "the killed run's note is left behind")
        let after = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(after.code == 0)
        #expect(!after.stdout.contains("a run holds the study"), "\(after.stdout)")
        #expect(after.stdout.contains("ended abnormally at about "), "\(after.stdout)")
        #expect(after.stdout.contains("  slow       0       0        0       2      2"), "\(after.stdout)")
    }
}
