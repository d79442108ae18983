import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A study whose subjects are a BIDS dataset, under a real mpirun: the
/// tree found at each run, and what a subject that appears or goes reruns.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found (set CI=true to make this a failure)"))
struct DatasetRunTests {
    @Test func theBIDSExampleRunsAndLeavesEachSubjectsTable() throws {
        let job = try MPIHarness.copyJob("bids", repository: repository)
        let result = try MPIHarness.run(ranks: 4, ["run", job])
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("All 12 instances done."), "\(result.stdout)")
        #expect(result.stderr.isEmpty, "no warnings for a clean dataset: \(result.stderr)")
        let folder = String(job.dropLast("/job.yml".count))
        #expect(Files.read(folder + "/out/group/table") == "sub-01 patient 2\nsub-02 control 1\nsub-03 control 1\n")
    }

    @Test func subjectsThatAppearOrGoBetweenRunsShowInThePlanAndRerunOnlyWhatTheyChange() throws {
        let job = try MPIHarness.writeJob("""
            study: grows
            dataset: {bids: data}
            stages:
              - name: convert
                domain: session
                run: echo "{subject}|{session}|$COHORT_SESSION" > {workdir}/seen; echo {subject}:{session} >> ledger
              - name: group
                domain: study
                run: ls data | grep -c '^sub-' > {workdir}/count; echo group >> ledger
            """)
        let folder = String(job.dropLast("/job.yml".count))
        for path in ["sub-01/ses-a", "sub-01/ses-b", "sub-02/anat"] { Files.makeFolder(folder + "/data/" + path) }
        let first = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(first.code == 0, "\(first.output)")
        #expect(Files.read(folder + "/out/convert/sub-02/no-session/seen") == "sub-02||\n", "an implicit session is empty")
        #expect(Set(Files.read(folder + "/ledger").split(separator: "\n")) == ["sub-01:ses-a", "sub-01:ses-b", "sub-02:", "group"])

        // A new subject with a row in a new participants.tsv, a stale row, and a folder without a row.
        Files.makeFolder(folder + "/data/sub-03")
        Files.makeFolder(folder + "/data/sub-04")
        Files.write(folder + "/data/participants.tsv", "participant_id\nsub-01\nsub-02\nsub-03\nsub-09\n")
        let plan = try ChildProcess.run([MPIHarness.binaryFolder + "/cohort", "plan", job, "--instances"])
        #expect(plan.code == 0, "\(plan.output)")
        #expect(plan.stdout.contains("cohort: subjects since the last run: 1 new (sub-03)\n"), "\(plan.stdout)")
        #expect(plan.stdout.contains("convert:sub-03        new"), "\(plan.stdout)")
        #expect(plan.stdout.contains("group                 upstream reruns"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("sub-04"), "a folder without a row is not a subject")
        #expect(plan.stderr.contains("data/participants.tsv:5: warning: \"sub-09\" has no folder"), "\(plan.stderr)")
        #expect(plan.stderr.contains("data/sub-04: warning: no row in participants.tsv; not run"), "\(plan.stderr)")

        Files.write(folder + "/ledger", "")
        let second = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(second.code == 0, "\(second.output)")
        #expect(Set(Files.read(folder + "/ledger").split(separator: "\n")) == ["sub-03:", "group"], "only the new subject and the study stage")
        #expect(Files.read(folder + "/out/group/count") == "4\n")

        // A subject goes: nothing of the others reruns, the study stage does.
        _ = try ChildProcess.run(["rm", "-rf", folder + "/data/sub-02"])
        Files.write(folder + "/data/participants.tsv", "participant_id\nsub-01\nsub-03\n")
        Files.write(folder + "/ledger", "")
        let third = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(third.code == 0, "\(third.output)")
        #expect(third.stdout.contains("subjects since the last run: 1 gone (sub-02; results left on disk)"), "\(third.stdout)")
        #expect(Files.read(folder + "/ledger") == "group\n")
        // Each run journaled the tree it saw; the journal is the record of which subjects each run had.
        let trees = Files.read(folder + "/.cohort/grows/journal").split(separator: "\n").filter { $0.contains("\ttree\t") }
        #expect(trees.count == 3, "\(trees)")
        #expect(trees.last?.contains("\tgone=sub-02\t") == true)
    }

    /// A subject's sessions vanish for a run (unmounted, renamed) and come
    /// back: the implicit session that ran meanwhile never held, nor moved
    /// aside, the sessions' results, which are still there and still done.
    @Test func aSubjectWhoseSessionsVanishForARunKeepsTheirResults() throws {
        let job = try MPIHarness.writeJob("""
            study: flicker
            dataset: {bids: data}
            stages:
              - {name: convert, domain: session, run: 'echo "$COHORT_SESSION" > {workdir}/result'}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        for path in ["sub-01/ses-1", "sub-01/ses-2"] { Files.makeFolder(folder + "/data/" + path) }
        #expect(try MPIHarness.run(ranks: 2, ["run", job]).code == 0)
        _ = try ChildProcess.run(["mv", folder + "/data/sub-01/ses-1", folder + "/data/sub-01/ses-2", folder])
        let implicit = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(implicit.code == 0, "\(implicit.output)")
        #expect(Files.read(folder + "/out/convert/sub-01/no-session/result") == "\n")
        _ = try ChildProcess.run(["mv", folder + "/ses-1", folder + "/ses-2", folder + "/data/sub-01/"])
        let plan = try ChildProcess.run([MPIHarness.cohort, "plan", job])
        #expect(plan.stdout.contains("study flicker: 2 instances: 2 done, 0 to run"), "\(plan.stdout)")
        #expect(Files.read(folder + "/out/convert/sub-01/ses-1/result") == "ses-1\n", "what counts as done is still there")
        #expect(Files.read(folder + "/out/convert/sub-01/ses-2/result") == "ses-2\n")
    }

    /// On a login node without the data mounted, `status` still shows the
    /// study as the last run found it; `plan` and `run` refuse (they would
    /// act on the dataset).
    @Test func statusOfAStudyWhoseDatasetIsNotThereShowsTheRecordedSubjects() throws {
        let job = try MPIHarness.writeJob("""
            study: away
            dataset: {bids: data}
            stages:
              - {name: convert, domain: session, run: 'true'}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        for path in ["sub-01/ses-1", "sub-02"] { Files.makeFolder(folder + "/data/" + path) }
        #expect(try ChildProcess.run([MPIHarness.cohort, "run", job]).code == 0)
        _ = try ChildProcess.run(["mv", folder + "/data", folder + "/elsewhere"])
        let status = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(status.code == 0, "\(status.output)")
        #expect(status.stderr.contains("/data: No such file or directory: warning: showing the 2 subjects the last run recorded"),
                "\(status.stderr)")
        #expect(status.stdout.contains("  convert      2       0        0       0      2"), "\(status.stdout)")
        let plan = try ChildProcess.run([MPIHarness.cohort, "plan", job])
        #expect(plan.code == 2 && plan.stderr.contains("No such file or directory"), "\(plan.output)")
    }
}
