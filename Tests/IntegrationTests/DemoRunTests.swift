import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

let repository: String = {
    // Tests/IntegrationTests/DemoRunTests.swift -> the repository root.
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
    return path
}()

/// The demo study under a real mpirun, judged by the modules' own ledger.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found (set CI=true to make this a failure)"))
struct DemoRunTests {
    @Test(arguments: [1, 2, 4])
    func everyInstanceRunsOnceAfterItsDependencies(ranks: Int) throws {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        let folder = String(job.dropLast("/job.yml".count))
        let ledgerPath = folder + "/ledger.txt"
        let result = try MPIHarness.run(ranks: ranks, ["run", job], environment: ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0.02"])
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("All 31 instances done."))

        let graph = try InstanceGraph(job: JobLoader.load(text: Files.read(job), file: job))
        let ledger = Ledger(path: ledgerPath)
        #expect(ledger.violations(of: graph) == [])
        if ranks == 1 {
            #expect(ledger.ranks == [0], "with one rank, rank 0 runs everything")
        } else {
            #expect(ledger.ranks.isSubset(of: Set(1..<ranks)), "rank 0 only schedules")
            if ranks > 2 { #expect(ledger.ranks.count > 1, "work spreads over workers: \(ledger.ranks)") }
        }
        // The study-level result saw every subject and session.
        let report = Files.read(folder + "/out/group/report.txt")
        #expect(report.contains("subjects: 3"))
        #expect(report.contains("over 6 sessions"))
    }

    @Test func failingSubjectIsIsolated() throws {
        let job = try MPIHarness.copyJob("demo", repository: repository)
        let folder = String(job.dropLast("/job.yml".count))
        let ledgerPath = folder + "/ledger.txt"
        let result = try MPIHarness.run(ranks: 3, ["run", job],
                                        environment: ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0.02", "DEMO_FAIL_SUBJECT": "sub-02"])
        #expect(result.code == 1, "\(result.output)")
        let ledger = Ledger(path: ledgerPath)
        // The failure is where it happened, and nothing after it in sub-02 ran.
        #expect(ledger.instances.filter { $0.contains("sub-02") } == ["convert:sub-02:ses-pre"])
        #expect(ledger.begins("group").isEmpty, "the study stage waits for every subject")
        // Independent subjects ran to the end.
        for name in ["firstlevel:sub-01", "firstlevel:sub-03", "qa:sub-01", "qa:sub-03", "smooth:sub-03:ses-followup"] {
            #expect(ledger.ends(name).count == 1, "\(name) should have run")
        }
        // The summary names counts, the failure, its log and its last lines.
        #expect(result.stdout.contains("  convert         5        0       1        0        0      6"))
        #expect(result.stdout.contains("  group           0        0       0        1        0      1"))
        #expect(result.stdout.contains("convert:sub-02:ses-pre: exit status 4 on rank"))
        #expect(result.stdout.contains("logs: \(folder)/out/.attempts/convert/sub-02/ses-pre/1/stderr.log"))
        #expect(result.stdout.contains("| scanner file for sub-02 is corrupt"))
        #expect(result.stdout.contains("Not all done: 1 failed, 6 skipped"))

        // The summary's rerun command runs just that instance.
        #expect(result.stdout.contains("rerun just it: cohort run \(job) --only convert:sub-02:ses-pre"))
        let before = Ledger(path: ledgerPath).events.count
        let rerun = try MPIHarness.run(ranks: 3, ["run", job, "--only", "convert:sub-02:ses-pre"],
                                       environment: ["DEMO_LEDGER": ledgerPath, "DEMO_DELAY": "0.02"])
        #expect(rerun.code == 0, "\(rerun.output)")
        #expect(Ledger(path: ledgerPath).events.dropFirst(before).filter(\.begin).map(\.instance) == ["convert:sub-02:ses-pre"])
        #expect(rerun.stdout.contains("Selection done: 1 ran now, 24 were done earlier, 6 outside --only/--subjects left alone."))
    }

    @Test func lastInstanceFailingStillExitsOne() throws {
        let job = try MPIHarness.writeJob("""
            study: s
            stages:
              - {name: ok, domain: study, run: "true"}
              - {name: last, domain: study, run: "echo boom >&2; exit 9"}
            """)
        let result = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(result.code == 1, "\(result.output)")
        #expect(result.stdout.contains("last: exit status 9"))
        #expect(result.stdout.contains("| boom"))
    }

    /// A module's terminal escapes never reach the user's terminal raw, a
    /// long line says it was cut, and a silent failure says its log is empty.
    @Test func failureLogsAreShownReadably() throws {
        let job = try MPIHarness.writeJob("""
            study: s
            stages:
              - {name: loud, domain: study, after: [], run: "printf '\\\\033[31mred\\\\007\\\\n'; head -c 400 /dev/zero | tr '\\\\0' x; exit 3"}
              - {name: quiet, domain: study, after: [], run: "exit 4"}
              - {name: long, domain: study, after: [], run: "echo ERROR: disk quota exceeded >&2; head -c 5000 /dev/zero | tr '\\\\0' y >&2; echo >&2; exit 5"}
            """)
        let result = try ChildProcess.run([MPIHarness.cohort, "run", job], timeout: 60)
        #expect(result.code == 1)
        #expect(!result.stdout.contains("\u{1b}") && !result.stdout.contains("\u{07}"), "raw control bytes in the summary")
        #expect(result.stdout.contains("| \\x1b[31mred\\x07"), "\(result.stdout)")
        #expect(result.stdout.contains("… (cut: 160 more characters)"))
        #expect(result.stdout.contains("quiet: exit status 4"))
        #expect(result.stdout.contains("    | (empty)"))
        #expect(result.stdout.contains("| ERROR: disk quota exceeded"), "the line before a long one is kept: \(result.stdout)")
        #expect(result.stdout.contains("… (cut: 4760 more characters)"), "a long last line is shown cut, not as empty")
    }

    @Test func missingCommandFailsWithItsMessage() throws {
        let job = try MPIHarness.writeJob("""
            study: s
            subjects: [a, b]
            stages:
              - {name: first, domain: subject, run: "no-such-command-xyz {subject}"}
            """)
        let result = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(result.code == 1)
        #expect(result.stdout.contains("first:a: exit status 127"))
        #expect(result.stdout.contains("not found"))
    }

    @Test func modulesSeeTheirInstanceAndTheJobEnvironment() throws {
        // A job folder with a space and a quote: placeholders must arrive as one word each.
        let base = try TemporaryFolder.make(prefix: "env")
        let folder = base + "/lab's data"
        #expect(mkdir(folder, 0o755) == 0)
        let job = folder + "/job.yml"
        Files.write(job, """
            study: st
            subjects: [s1]
            sessions: [ses-1]
            env: {GREETING: "hello world"}
            stages:
              - name: show
                domain: session
                cpus: 1
                run: printf '%s|' "$COHORT_STUDY" "$COHORT_SUBJECT" "$COHORT_SESSION" "$COHORT_STAGE" "$COHORT_WORKDIR" "$COHORT_THREADS" "$COHORT_RANK" "$GREETING" {session} "$(pwd)" > {workdir}/env.txt
            """)
        let result = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(result.code == 0, "\(result.output)")
        let instance = "\(folder)/out/show/s1/ses-1"
        #expect(Files.read(instance + "/env.txt") == "st|s1|ses-1|show|\(instance)|1|1|hello world|ses-1|\(folder)|")
    }
}

/// `setup:` and `--export` reach every module.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct EnvironmentTests {
    @Test func setupSnippetsAndExportedVariablesReachModules() throws {
        let job = try MPIHarness.writeJob("""
            study: env
            subjects: [a, b]
            setup: export TOOL=fsl-6.0
            stages:
              - name: first
                domain: subject
                setup: TOOL="$TOOL+stage"
                run: echo "$TOOL $FROM_SHELL $GIVEN" > {workdir}/seen
            """)
        let out = String(job.dropLast("/job.yml".count)) + "/out"
        let result = try MPIHarness.run(ranks: 3, ["run", job, "--export", "FROM_SHELL", "--export", "GIVEN=yes please"],
                                        environment: ["FROM_SHELL": "submitted"])
        #expect(result.code == 0, "\(result.output)")
        #expect(Files.read(out + "/first/a/seen") == "fsl-6.0+stage submitted yes please\n")
        #expect(Files.read(out + "/first/b/seen") == "fsl-6.0+stage submitted yes please\n")
        let unset = try MPIHarness.run(ranks: 1, ["run", job, "--export", "NOT_SET_ANYWHERE_42"])
        #expect(unset.code == 2)
        #expect(unset.stderr.contains("--export NOT_SET_ANYWHERE_42: not set in this shell"))

        // A worker rank without the variable (as one started over ssh): rank 0's value reaches every module.
        let arguments = ["run", job, "--export", "FROM_SHELL", "--force", "first"]
        let mixed = try ChildProcess.run(
            ["mpirun", "--oversubscribe", "--bind-to", "none", "--stdin", "none", "-q", "-np", "1", MPIHarness.cohort] + arguments
                + [":", "-np", "2", "env", "-u", "FROM_SHELL", MPIHarness.cohort] + arguments,
            environment: MPIHarness.environment(["FROM_SHELL": "from rank 0"]), timeout: 120)
        #expect(mixed.code == 0, "\(mixed.output)")
        #expect(Files.read(out + "/first/a/seen") == "fsl-6.0+stage from rank 0 \n")
        #expect(Files.read(out + "/first/b/seen") == "fsl-6.0+stage from rank 0 \n")
    }
}

/// Bad jobs and impossible demands are refused before anything runs.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct RefusalTests {
    @Test func invalidJobExitsTwoNamingTheLine() throws {
        let job = try MPIHarness.writeJob("study: s\nstages:\n  - {name: a, domain: study, run: x}\n  - {name: b, domain: study, run: y, after: [c]}\n")
        let result = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(result.code == 2)
        #expect(result.stderr.contains("\(job):4: stages[1].after[0]: unknown stage \"c\""))
        let validate = try ChildProcess.run([MPIHarness.cohort, "validate", job])
        #expect(validate.code == 2)
        #expect(validate.stderr.contains(":4: stages[1].after[0]"))
    }

    /// `cohort validate` refuses everything `cohort run` would, each problem on
    /// one located line, and neither of them touches anything.
    @Test func validateRefusesWhatRunWouldRefuse() throws {
        let job = try MPIHarness.writeJob("""
            study: s
            subjects: [a]
            stages:
              - {name: typo, domain: subject, run: "echo {subjct}"}
              - {name: missing, domain: subject, run: "sh modules/nothere.sh"}
              - {name: notexec, domain: subject, run: "modules/plain.sh {subject}"}
              - {name: folder, domain: subject, run: "modules/"}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        Files.write(folder + "/modules/plain.sh", "echo hi\n")
        let validate = try ChildProcess.run([MPIHarness.cohort, "validate", job])
        #expect(validate.code == 2)
        #expect(validate.stderr.contains("\(job):4: stages[0].run: unknown placeholder {subjct} (did you mean {subject}?)"), "\(validate.stderr)")
        Files.write(job, Files.read(job).replacingOccurrences(of: "{subjct}", with: "{subject}"))
        let files = try ChildProcess.run([MPIHarness.cohort, "validate", job])
        #expect(files.code == 2)
        let lines = files.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("\(job):5: stages[1].run: modules/nothere.sh does not exist (looked in \(folder))"), "\(files.stderr)")
        #expect(lines.contains("\(job):6: stages[2].run: modules/plain.sh is not executable (chmod +x modules/plain.sh, or run it as sh modules/plain.sh)"))
        #expect(lines.contains("\(job):7: stages[3].run: modules/ is a folder, not a script"))
        #expect(!Files.exists(folder + "/out"), "validate creates nothing")
        let run = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(run.code == 2)
        #expect(run.stderr.split(separator: "\n").map(String.init) == lines, "run refuses exactly what validate does")
        #expect(!Files.exists(folder + "/.cohort/s/journal"), "nothing ran")
    }

    /// `workdir: .` and a stage named like the scripts' folder: an attempt
    /// would move the job's own scripts aside. A script Cohort cannot name
    /// is said to be untracked.
    @Test func stageFolderHoldingTheJobsScriptsIsRefused() throws {
        let job = try MPIHarness.writeJob("""
            study: s
            workdir: .
            stages:
              - {name: modules, domain: study, run: "modules/x.sh"}
              - name: other
                domain: study
                run: "cd modules && ./x.sh"
            """)
        let folder = String(job.dropLast("/job.yml".count))
        Files.write(folder + "/modules/x.sh", "#!/bin/sh\necho hi\n")
        #expect(chmod(folder + "/modules/x.sh", 0o755) == 0)
        let validate = try ChildProcess.run([MPIHarness.cohort, "validate", job])
        #expect(validate.code == 2)
        #expect(validate.stderr.contains("\(job):4: stages[0].name: an instance folder of stage modules holds \(folder)/modules/x.sh"), "\(validate.stderr)")
        let run = try ChildProcess.run([MPIHarness.cohort, "run", job])
        #expect(run.code == 2)
        #expect(Files.exists(folder + "/modules/x.sh"), "nothing moved")
        Files.write(job, Files.read(job).replacingOccurrences(of: "workdir: .", with: "workdir: out"))
        let fixed = try ChildProcess.run([MPIHarness.cohort, "validate", job])
        #expect(fixed.code == 0, "\(fixed.output)")
        #expect(fixed.stderr.contains("\(job):7: stages[1].run: warning: it changes folder (cd) before what it runs"), "\(fixed.stderr)")
    }

    /// A module script the run cannot read would make its stage look
    /// changed (or unchanged) on a hiccup: the run refuses, and says why.
    /// Root reads everything, so the run is made as `nobody`.
    @Test(.enabled(if: getuid() == 0 && Files.exists("/usr/bin/setpriv"), "needs root and setpriv"))
    func unreadableModuleScriptIsRefused() throws {
        let job = try MPIHarness.writeJob("study: s\nstages:\n  - {name: a, domain: study, run: modules/secret.sh}\n")
        let folder = String(job.dropLast("/job.yml".count))
        Files.write(folder + "/modules/secret.sh", "echo hi\n")
        #expect(chmod(folder, 0o777) == 0 && chmod(folder + "/modules", 0o755) == 0 && chmod(job, 0o644) == 0)
        #expect(chmod(folder + "/modules/secret.sh", 0o111) == 0, "executable, not readable")
        let result = try ChildProcess.run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                           MPIHarness.cohort, "run", job], timeout: 60)
        #expect(result.code == 2, "\(result.output)")
        #expect(result.stderr.contains("cannot read the module script \(folder)/modules/secret.sh: Permission denied; nothing ran"),
                "\(result.stderr)")
        #expect(!Files.exists(folder + "/.cohort/s/journal"), "nothing ran")
    }

    @Test func stageThatFitsNoWorkerIsRefusedNotHung() throws {
        let job = try MPIHarness.writeJob("study: s\nstages:\n  - {name: huge, domain: study, run: 'true', cpus: 64}\n")
        let result = try MPIHarness.run(ranks: 3, ["run", job, "--slots", "2"], timeout: 60)
        #expect(result.code == 2, "\(result.output)")
        #expect(result.stderr.contains("stage \"huge\" needs 64 cpus"))
        #expect(!Files.exists(String(job.dropLast("/job.yml".count)) + "/out/huge"), "nothing ran")
    }

    @Test func badCommandLineExitsTwo() throws {
        let result = try ChildProcess.run([MPIHarness.cohort, "run", "job.yml", "--slots", "0"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("--slots must be from 1"))
    }
}
