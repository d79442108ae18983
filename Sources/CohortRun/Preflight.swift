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
        for (index, stage) in job.stages.enumerated() {
            for script in ScriptReference.analyse(stage.command).scripts {
                let path = script.path.hasPrefix("/") ? script.path : factory.jobFolder + "/" + script.path
                let place = "\(jobFile):\(stage.runLine): stages[\(index)].run"
                var info = stat()
                if stat(path, &info) != 0 {
                    problems.append("\(place): \(script.path) does not exist (looked in \(factory.jobFolder))")
                } else if (info.st_mode & S_IFMT) == S_IFDIR {
                    problems.append("\(place): \(script.path) is a folder, not a script")
                } else if script.direct && access(path, X_OK) != 0 {
                    problems.append("\(place): \(script.path) is not executable (chmod +x \(script.path), or run it as sh \(script.path))")
                }
            }
        }
        problems += filesInStageFolders(job: job, jobFile: jobFile, factory: factory)
        // The workdir is made only when nothing else is wrong: a refused run leaves nothing behind.
        let workdirProblem = createWorkdir && problems.isEmpty ? makeFolder(factory.workdir) : writableProblem(factory.workdir)
        if let workdirProblem { problems.insert("\(jobFile): workdir: \(workdirProblem)", at: 0) }
        return problems
    }

    /// Stages whose `run` line runs a script Cohort cannot name (editing it
    /// will not rerun the stage), one located line each.
    public static func untrackedScripts(job: Job, jobFile: String) -> [String] {
        job.stages.enumerated().compactMap { index, stage in
            ScriptReference.analyse(stage.command).untracked.map {
                "\(jobFile):\(stage.runLine): stages[\(index)].run: warning: \($0), so editing the script it runs will not rerun the stage (--force it, or name the script plainly: run: modules/x.sh ARGS)"
            }
        }
    }

    /// A stage folder that holds the job file or a module script (`workdir: .`
    /// and a stage named like the scripts' folder): a new attempt would move
    /// them aside.
    static func filesInStageFolders(job: Job, jobFile: String, factory: TaskFactory) -> [String] {
        let jobPath = jobFile.hasPrefix("/") ? jobFile : factory.jobFolder + "/" + (jobFile.split(separator: "/").last.map(String.init) ?? jobFile)
        var ours = [lexical(jobPath)]
        for stage in job.stages {
            for script in ScriptReference.analyse(stage.command).scripts {
                ours.append(lexical(script.path.hasPrefix("/") ? script.path : factory.jobFolder + "/" + script.path))
            }
        }
        var problems: [String] = []
        for (index, stage) in job.stages.enumerated() {
            let folder = lexical(factory.workdir + "/" + stage.name) + "/"
            if let inside = ours.first(where: { $0.hasPrefix(folder) }) {
                problems.append("\(jobFile):\(stage.line): stages[\(index)].name: the stage's folder \(folder) holds \(inside), which a new attempt would move aside; rename the stage or set another workdir:")
            }
        }
        return problems
    }

    /// `path` with `.` and `..` components resolved by text.
    static func lexical(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
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
