public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Checks against the file system before a run touches anything: the
/// workdir can be written, and every module script the job names exists
/// (and can be executed when the shell runs it directly). `cohort validate`
/// runs the same checks without creating anything.
public enum Preflight {
    public static func problems(job: Job, jobFile: String, factory: TaskFactory, createWorkdir: Bool = true) -> [String] {
        var problems: [String] = []
        let workdirProblem = createWorkdir ? makeFolder(factory.workdir) : writableProblem(factory.workdir)
        if let workdirProblem { problems.append("\(jobFile): workdir: \(workdirProblem)") }
        for (index, stage) in job.stages.enumerated() {
            guard let (script, direct) = ScriptReference.reference(in: stage.command) else { continue }
            let path = script.hasPrefix("/") ? script : factory.jobFolder + "/" + script
            let place = "\(jobFile):\(stage.line): stages[\(index)].run"
            var info = stat()
            if stat(path, &info) != 0 {
                problems.append("\(place): \(script) does not exist (looked in \(factory.jobFolder))")
            } else if (info.st_mode & S_IFMT) == S_IFDIR {
                problems.append("\(place): \(script) is a folder, not a script")
            } else if direct && access(path, X_OK) != 0 {
                problems.append("\(place): \(script) is not executable (chmod +x \(script), or run it as sh \(script))")
            }
        }
        return problems
    }

    /// Why `folder` could not be created or written, without creating it.
    static func writableProblem(_ folder: String) -> String? {
        var path = folder
        while true {
            var info = stat()
            if stat(path, &info) == 0 {
                if (info.st_mode & S_IFMT) != S_IFDIR { return "cannot create folder \(folder): \(path) is a file" }
                if access(path, W_OK) != 0 { return "cannot write to folder \(path): \(errnoText())" }
                return nil
            }
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
            path = String(path[..<slash])
        }
    }
}
