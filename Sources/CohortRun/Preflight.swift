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
                let path = resolved(script.path, in: factory.jobFolder)
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

    /// An instance folder that holds the job file or a module script
    /// (`workdir: .` and a study stage named like the scripts' folder): a
    /// new attempt would move them aside.
    static func filesInStageFolders(job: Job, jobFile: String, factory: TaskFactory) -> [String] {
        let jobPath = jobFile.hasPrefix("/") ? jobFile : factory.jobFolder + "/" + (jobFile.split(separator: "/").last.map(String.init) ?? jobFile)
        var ours = [normalized(jobPath)]
        for stage in job.stages {
            for script in ScriptReference.analyse(stage.command).scripts {
                ours.append(normalized(resolved(script.path, in: factory.jobFolder)))
            }
        }
        let workdir = factory.workdir + "/"
        var problems: [String] = []
        var reported: Set<Int> = []
        for path in ours where path.hasPrefix(workdir) {
            // WORKDIR/STAGE[/SUBJECT[/SESSION]]/…: is that prefix an instance folder?
            let parts = path.dropFirst(workdir.count).split(separator: "/").map(String.init)
            guard parts.count >= 2, let index = job.stageIndex(named: parts[0]), !reported.contains(index) else { continue }
            let stage = job.stages[index]
            let subject = job.subjects.first { parts.count >= 3 && $0.name == parts[1] }
            let inInstance = switch stage.domain {
            case .study: true
            case .subject: subject != nil
            case .session: subject.map { subject in
                // An implicit session ("": a BIDS subject without ses-*) has the folder `no-session`.
                subject.sessions.isEmpty || (parts.count >= 4 && (subject.sessions.contains(parts[2])
                    || (subject.sessions.contains("") && parts[2] == StageRecipe.implicitSessionFolder)))
            } ?? false
            }
            guard inInstance else { continue }
            reported.insert(index)
            problems.append("\(jobFile):\(stage.line): stages[\(index)].name: an instance folder of stage \(stage.name) holds \(path), which a new attempt would move aside; rename the stage or choose another workdir")
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
