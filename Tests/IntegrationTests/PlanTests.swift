import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `cohort plan`: a dry run that says what a run would do and why, refuses
/// what the run would refuse, and touches nothing.
@Suite(.enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct PlanTests {
    func folder(of job: String) -> String { String(job.dropLast("/job.yml".count)) }

    func plan(_ job: String, _ options: [String] = []) throws -> ChildProcess.Result {
        try ChildProcess.run([MPIHarness.cohort, "plan", job] + options)
    }

    func writeStudy() throws -> String {
        let job = try MPIHarness.writeJob("""
            study: planned
            subjects: [a, b]
            stages:
              - {name: prep, domain: subject, run: 'sh prep.sh {subject}'}
              - {name: model, domain: subject, run: 'echo model > {workdir}/out'}
              - {name: group, domain: study, run: 'true'}
            """)
        Files.write(folder(of: job) + "/prep.sh", "echo prep $1\n")
        return job
    }

    @Test func beforeAnyRunEverythingIsNewAndNothingIsCreated() throws {
        let job = try writeStudy()
        let result = try plan(job)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("study planned: 5 instances: 0 done, 5 to run"), "\(result.stdout)")
        #expect(result.stdout.contains("  prep: 0 done earlier, 2 to run (2 new)"))
        #expect(!Files.exists(folder(of: job) + "/.cohort"), "no state folder")
        #expect(!Files.exists(folder(of: job) + "/out"), "no workdir")
    }

    @Test func saysWhyEachInstanceWouldRunAfterChanges() throws {
        let job = try writeStudy()
        #expect(try MPIHarness.run(ranks: 1, ["run", job]).code == 0)
        let current = try plan(job, ["--instances"])
        #expect(current.stdout.contains("study planned: 5 instances: 5 done, 0 to run"), "\(current.stdout)")
        #expect(current.stdout.contains("  model:b  done"), "\(current.stdout)")

        let forced = try plan(job, ["--force", "group", "--instances", "--only", "group"])
        #expect(forced.stdout.contains("  group: 0 done earlier, 1 to run (1 forced)"), "\(forced.stdout)")
        #expect(forced.stdout.contains("  group    forced"), "\(forced.stdout)")
        #expect(!forced.stdout.contains("  prep:a "), "only selected instances are listed")
        #expect(try plan(job).stdout.contains("5 done, 0 to run"), "the plan forced nothing")

        Files.write(folder(of: job) + "/prep.sh", "echo prep v2 $1\n")
        let edited = try plan(job, ["--instances"])
        #expect(edited.stdout.contains("  prep: 0 done earlier, 2 to run (2 script changed)"), "\(edited.stdout)")
        #expect(edited.stdout.contains("  prep:a   changed: script"))
        #expect(edited.stdout.contains("  model:a  upstream reruns"))
        #expect(edited.stdout.contains("  group    upstream reruns"))
        let blocked = try plan(job, ["--only", "group", "--instances"])
        #expect(blocked.stdout.contains("  group    waits for an instance outside the selection (upstream reruns)"), "\(blocked.stdout)")
    }

    @Test func refusesWhatTheRunWouldRefuseWithTheSameWords() throws {
        let job = try writeStudy()
        #expect(unlink(folder(of: job) + "/prep.sh") == 0)
        let planned = try plan(job)
        let ran = try MPIHarness.run(ranks: 1, ["run", job])
        #expect(planned.code == 2)
        #expect(ran.code == 2)
        #expect(planned.stderr.contains("stages[0].run: prep.sh does not exist"), "\(planned.stderr)")
        #expect(planned.stderr == ran.stderr)
        let unknown = try plan(job, ["--force", "modle"])
        #expect(unknown.code == 2)
        #expect(unknown.stderr.contains("--force modle: no such stage"))
    }
}
