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
              - {name: slow, domain: subject, run: "touch {workdir}/started; sleep 5"}
            """)
        let before = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(before.stdout.contains("no run yet"))
        // Scripts get the whole schema before the first run too: everything to do.
        let beforeJSON = try ChildProcess.run([MPIHarness.cohort, "status", job, "--json"])
        let schema = try ChildProcess.run(["python3", "-c", """
            import json, sys
            d = json.load(open(sys.argv[1]))
            assert d["runs"] == 0 and d["run"]["state"] == "none" and d["anythingFailed"] is False
            assert [(s["name"], s["toDo"], s["total"]) for s in d["stages"]] == [("quick", 3, 3), ("slow", 3, 3)], d["stages"]
            assert d["notDoneCount"] == 6 and len(d["notDone"]) == 6 and d["failures"] == []
            print("ok")
            """, try jsonFile(beforeJSON.stdout)])
        #expect(schema.stdout == "ok\n", "\(schema.output)\n\(beforeJSON.stdout)")

        let run = try MPIHarness.start(ranks: 3, ["run", job])
        let folder = String(job.dropLast("/job.yml".count))
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder + "/out/slow/a/started") })
        let during = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(during.code == 1, "quick:c failed: status says so in its exit status")
        #expect(during.stdout.contains("a run holds the study (host "))
        #expect(during.stdout.contains(": started 20"), "since when")
        #expect(during.stdout.contains(" on 2 workers"), "\(during.stdout)")
        // The matrix: a has quick done and slow running; c failed quick, so slow is skipped.
        #expect(during.stdout.contains("  a  #>"), "\(during.stdout)")
        #expect(during.stdout.contains("  c  X-"), "\(during.stdout)")
        #expect(during.stdout.contains("  columns: 1 quick, 2 slow"))
        // What runs where, and for how long.
        let host = ProcessEnvironment.hostName
        #expect(during.stdout.contains("Running ("))
        let slowA = during.stdout.split(separator: "\n").first { $0.hasPrefix("  slow:a  rank ") }.map(String.init) ?? ""
        #expect(slowA.contains(" on \(host)  for "), "where and for how long: \(during.stdout)")
        #expect(during.stdout.contains("    rerun just it: cohort run \(job) --only quick:c"))
        #expect(during.stdout.contains("  quick      2       1        0       0      3"), "\(during.stdout)")
        #expect(during.stdout.contains("quick:c: exit status 1 (attempt 1)"))
        #expect(during.stdout.contains("logs: none found"), "no empty log is made: \(during.stdout)")
        #expect(Files.exists(folder + "/out/.attempts/quick/c/1/rerun.sh") && !Files.exists(folder + "/out/.attempts/quick/c/1/stderr.log"))
        let running = during.stdout.split(separator: "\n").first { $0.hasPrefix("  slow") }.map(String.init) ?? ""
        #expect(running.split(separator: " ").dropFirst(3).first.flatMap { Int($0) } ?? 0 >= 1, "slow instances are running: \(running)")
        #expect(run.wait(timeout: 60).code == 1)

        let after = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(after.code == 1)
        #expect(after.stdout.contains("no run is active"))
        #expect(!after.stdout.contains("Running ("), "nothing runs after the run")
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
        #expect(after.code == 0, "nothing failed")
        #expect(!after.stdout.contains("a run holds the study"), "\(after.stdout)")
        #expect(after.stdout.contains("  a  .") && after.stdout.contains("  b  ."), "a died run's instances are pending, not running: \(after.stdout)")
        #expect(after.stdout.contains("ended abnormally at about "), "\(after.stdout)")
        #expect(after.stdout.contains("  slow       0       0        0       2      2"), "\(after.stdout)")
    }

    /// Failures alike read as one entry; each failure says why in plain
    /// words; `--json` carries the same for scripts.
    @Test func failuresAreGroupedExplainedAndInJSON() throws {
        let job = try MPIHarness.writeJob("""
            study: grouped
            subjects: [s1, s2, s3, s4]
            stages:
              - {name: fit, domain: subject, run: 'echo "ERROR: no convergence" >&2; exit 3'}
              - {name: qa, domain: subject, after: [], run: 'case {subject} in s2) nosuchcommand ;; esac'}
            """)
        let run = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(run.code == 1)
        // The run's summary groups them the same way.
        #expect(run.stdout.contains("  fit × 4: exit status 3 (fit:s1, fit:s2, fit:s3 and 1 more)"), "\(run.stdout)")
        #expect(run.stdout.contains("    | ERROR: no convergence"))
        #expect(run.stdout.contains("] FAILED  qa:s2  rank 1  command not found (exit 127)  "), "the cause as it happens: \(run.stdout)")
        #expect(run.stdout.contains("    cause: command not found (exit 127)"))
        let text = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(text.code == 1)
        #expect(text.stdout.contains("Failed (5):"), "\(text.stdout)")
        #expect(text.stdout.contains("  fit × 4: exit status 3 (fit:s1, fit:s2, fit:s3 and 1 more)"), "\(text.stdout)")
        #expect(text.stdout.contains("    last line: ERROR: no convergence"))
        #expect(text.stdout.contains("    rerun them: cohort run \(job) --only fit"))
        #expect(text.stdout.contains("  qa:s2: exit status 127 (attempt 1) on rank 1 ("), "\(text.stdout)")
        #expect(text.stdout.contains("    cause: command not found (exit 127)"))
        #expect(text.stdout.contains("    by hand, as the worker ran it: sh \(String(job.dropLast("/job.yml".count)))/out/.attempts/qa/s2/1/rerun.sh"), "\(text.stdout)")

        let json = try ChildProcess.run([MPIHarness.cohort, "status", job, "--json"])
        #expect(json.code == 1)
        let checked = try ChildProcess.run(["python3", "-c", """
            import json, sys
            d = json.load(open(sys.argv[1]))
            assert d["schema"] == "cohort-status/1", d["schema"]
            assert d["anythingFailed"] is True
            assert [s["name"] for s in d["stages"]] == ["fit", "qa"]
            assert d["stages"][0]["failed"] == 4 and d["stages"][1]["done"] == 3
            groups = {g["stage"]: g for g in d["failureGroups"]}
            assert groups["fit"]["count"] == 4 and groups["fit"]["lastLine"] == "ERROR: no convergence"
            qa = [f for f in d["failures"] if f["name"] == "qa:s2"][0]
            assert qa["exitStatus"] == 127 and qa["cause"].startswith("command not found"), qa
            assert qa["rerun"].endswith("--only qa:s2") and qa["host"] and qa["rank"] == 1
            assert sorted(n["name"] for n in d["notDone"]) == ["fit:s1", "fit:s2", "fit:s3", "fit:s4", "qa:s2"]
            print("ok")
            """, try jsonFile(json.stdout)])
        #expect(checked.stdout == "ok\n", "\(checked.output)\n\(json.stdout)")
    }

    /// A fresh large study would print one object per instance: `--json`
    /// lists at most 10,000 not done, failures first, and says how many there are.
    @Test func jsonListsAtMostTenThousandNotDoneUnlessAll() throws {
        let subjects = (1...4_000).map { "s\($0)" }.joined(separator: ",")
        let job = try MPIHarness.writeJob("""
            study: many
            subjects: [\(subjects)]
            stages:
              - {name: a, domain: subject, run: 'true'}
              - {name: b, domain: subject, run: 'true'}
              - {name: c, domain: subject, after: [], run: '[ {subject} != s4000 ]'}
            """)
        // The failure is the graph's very last instance: only ordering by attention keeps it in the first 10,000.
        #expect(try MPIHarness.run(ranks: 1, ["run", job, "--only", "c:s4000"]).code == 1)
        let capped = try ChildProcess.run([MPIHarness.cohort, "status", job, "--json"])
        let all = try ChildProcess.run([MPIHarness.cohort, "status", job, "--json", "--all"])
        let checked = try ChildProcess.run(["python3", "-c", """
            import json, sys
            capped, every = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
            assert capped["notDoneCount"] == 12000 and capped["notDoneTruncated"] is True, capped["notDoneCount"]
            assert len(capped["notDone"]) == 10000
            assert any(n["name"] == "c:s4000" and n["state"] == "failed" for n in capped["notDone"]), "failures come first"
            assert every["notDoneCount"] == 12000 and every["notDoneTruncated"] is False and len(every["notDone"]) == 12000
            print("ok")
            """, try jsonFile(capped.stdout), try jsonFile(all.stdout)])
        #expect(checked.stdout == "ok\n", "\(checked.output)")
    }

    func jsonFile(_ text: String) throws -> String {
        let path = try TemporaryFolder.make(prefix: "status-json") + "/status.json"
        Files.write(path, text)
        return path
    }

    @Test func whatARunLeftAloneShowsAsNotSelected() throws {
        let job = try MPIHarness.writeJob("""
            study: selected
            subjects: [a, b]
            stages:
              - {name: one, domain: subject, run: 'true'}
              - {name: two, domain: subject, run: 'true'}
            """)
        #expect(try MPIHarness.run(ranks: 1, ["run", job, "--only", "one", "--subjects", "a"]).code == 0)
        let status = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(status.stdout.contains("  a  #_"), "\(status.stdout)")
        #expect(status.stdout.contains("  b  __"), "\(status.stdout)")
        #expect(try MPIHarness.run(ranks: 1, ["run", job]).code == 0)
        #expect(try ChildProcess.run([MPIHarness.cohort, "status", job]).stdout.contains("  b  ##"), "a plain run selects everything")
    }
}
