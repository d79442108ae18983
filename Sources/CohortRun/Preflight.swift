public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Checks against the file system before a run touches anything: the
/// workdir can be written, and every module script the job names exists.
public enum Preflight {
    public static func problems(job: Job, jobFile: String, factory: TaskFactory) -> [String] {
        var problems: [String] = []
        if let problem = makeFolder(factory.workdir) {
            problems.append("\(jobFile): workdir: \(problem)")
        }
        for (index, stage) in job.stages.enumerated() {
            guard let script = ScriptReference.path(in: stage.command) else { continue }
            let path = script.hasPrefix("/") ? script : factory.jobFolder + "/" + script
            if access(path, F_OK) != 0 {
                problems.append("\(jobFile):\(stage.line): stages[\(index)].run: \(script) does not exist (looked in \(factory.jobFolder))")
            }
        }
        return problems
    }
}
