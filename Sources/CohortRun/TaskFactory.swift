public import CohortCore

/// Turns an instance into the self-contained order a worker runs: command
/// with placeholders substituted, folders, environment (DESIGN §2).
public struct TaskFactory: Sendable {
    public let graph: InstanceGraph
    /// Absolute folder of the job file: modules' working directory.
    public let jobFolder: String
    /// Absolute workdir: instance folders go under it.
    public let workdir: String
    /// Hash of the job file's text, recorded with each run.
    public let jobHash: String
    /// `--export` variables: the submitting shell's values, for every module on every host.
    public let exported: [EnvironmentVariable]
    /// Per stage: the environment its every instance shares (thread counts
    /// first: the job's env and --export override them), made once.
    let stageEnvironments: [[EnvironmentVariable]]

    public init(graph: InstanceGraph, jobFolder: String, jobHash: String = "", exported: [EnvironmentVariable] = []) {
        self.graph = graph
        self.exported = exported
        stageEnvironments = graph.job.stages.map { stage in
            ModuleEnvironment.threadDefaults(cpus: stage.cpus, jobEnvironment: graph.job.environment)
                + graph.job.environment + exported
        }
        self.jobFolder = jobFolder
        self.jobHash = jobHash
        let workdir = graph.job.workdir
        self.workdir = normalized(resolved(workdir, in: jobFolder))
    }

    /// `workdir/stage[/subject[/session]]`: stage first, so that no subject
    /// or session name can collide with another stage's folder.
    public func instanceFolder(of instance: InstanceID) -> String {
        workdir + "/" + relativeFolder(of: instance)
    }

    /// `workdir/.attempts/stage[/subject[/session]]/N`: attempt N's own
    /// folder, holding its logs, and its results once a later attempt has
    /// started (`files/`). Stage names never start with `.`, so no stage
    /// folder collides with it.
    public func attemptFolder(of instance: InstanceID, attempt: Int) -> String {
        workdir + "/" + Self.attemptsFolderName + "/" + relativeFolder(of: instance) + "/" + String(attempt)
    }

    public static let attemptsFolderName = ".attempts"

    private func relativeFolder(of instance: InstanceID) -> String {
        let stage = graph.job.stages[graph.stage(of: instance)]
        let labels = graph.labels(of: instance)
        var folder = stage.name
        if !labels.subject.isEmpty { folder += "/" + labels.subject }
        if !labels.session.isEmpty { folder += "/" + labels.session }
        return folder
    }

    /// `path` as seen from the job file's folder when it lies inside it
    /// (`out/.attempts/...`), else absolute: what the journal records.
    public func display(_ path: String) -> String {
        path.hasPrefix(jobFolder + "/") ? String(path.dropFirst(jobFolder.count + 1)) : path
    }

    /// Attempt `attempt` (counted over every run) of `instance`.
    public func order(for instance: InstanceID, attempt: Int) -> TaskOrder {
        let stage = graph.job.stages[graph.stage(of: instance)]
        let labels = graph.labels(of: instance)
        let folder = instanceFolder(of: instance)
        let command = CommandTemplate.substitute(stage.command) { placeholder in
            switch placeholder {
            case .study: graph.job.study
            case .subject: labels.subject
            case .session: labels.session
            case .workdir: folder
            }
        }
        var environment = stageEnvironments[graph.stage(of: instance)]
        environment += [
            .init(name: "COHORT_STUDY", value: graph.job.study),
            .init(name: "COHORT_SUBJECT", value: labels.subject),
            .init(name: "COHORT_SESSION", value: labels.session),
            .init(name: "COHORT_STAGE", value: stage.name),
            .init(name: "COHORT_WORKDIR", value: folder),
            .init(name: "COHORT_THREADS", value: String(stage.cpus)),
            .init(name: "COHORT_INSTANCE", value: graph.name(of: instance)),
            .init(name: "COHORT_ATTEMPT", value: String(attempt)),
        ]
        // What an earlier attempt left goes into that attempt's folder; before
        // the first recorded attempt, into "0" (files of unknown origin).
        let aside = attemptFolder(of: instance, attempt: max(0, attempt - 1)) + "/files"
        return TaskOrder(
            instance: instance, name: graph.name(of: instance), command: graph.job.script(for: stage, command: command),
            directory: jobFolder, instanceFolder: folder,
            attemptFolder: attemptFolder(of: instance, attempt: attempt), asideFolder: aside,
            environment: environment, cpus: stage.cpus, timeoutSeconds: stage.timeout ?? 0)
    }
}

/// `path` as it stands, if absolute; else relative to `folder` (the job file's, for paths the job names).
func resolved(_ path: String, in folder: String) -> String {
    path.hasPrefix("/") ? path : folder + "/" + path
}

/// `path` without `.` components, repeated or trailing slashes.
func normalized(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") where part != "." {
        if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
    }
    return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
}
