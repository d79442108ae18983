import CohortCore
@testable import CohortRun
import Testing

/// The commands the summary prints to rerun a failure can be pasted as
/// they are, also when the job's path has a space in it.
@Suite struct RerunCommandTests {
    @Test func pathsInRerunCommandsAreQuotedWhereTheyNeedIt() {
        let worker = WorkerInfo(id: WorkerID(1), host: "n1", profile: WorkerProfile(capacity: Capacity(cpus: 1, memory: 0)))
        let failure = FailureRecord(name: "fit:sub-01", outcome: .exited(1), worker: worker, logFolder: "/lab/my study/out/.attempts/fit/sub-01/1",
                                    logTail: "", wallSeconds: 1, attempt: 1, earlierAttempts: [], cause: nil)
        let quoted = failureLines(failure, jobFile: "/lab/my study/job.yml")
        #expect(quoted.contains("    rerun just it: cohort run '/lab/my study/job.yml' --only fit:sub-01"), "\(quoted)")
        #expect(quoted.contains("    by hand, as the worker ran it: sh '/lab/my study/out/.attempts/fit/sub-01/1/rerun.sh'"))
        let plain = failureLines(failure, jobFile: "jobs/demo/job.yml")
        #expect(plain.contains("    rerun just it: cohort run jobs/demo/job.yml --only fit:sub-01"), "a plain path stays as typed")
        var item = failure
        item.name = "mc:g1:s1:bad movie:2.tif"
        #expect(failureLines(item, jobFile: "job.yml").contains("    rerun just it: cohort run job.yml --only 'mc:g1:s1:bad movie:2.tif'"),
                "an item may hold a space")
    }
}
