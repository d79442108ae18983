public import CohortCore

/// Turns an instance into the order a worker runs: on rank 0 the
/// assignment (instance, labels, attempt), with the stage's recipe (command
/// line, folders, environment; DESIGN §2) that workers are sent once.
public struct TaskFactory: Sendable {
    /// Grows with the run's items (the coordinator follows its scheduler's).
    public internal(set) var graph: InstanceGraph
    /// Absolute folder of the job file: modules' working directory.
    public let jobFolder: String
    /// Absolute workdir: instance folders go under it.
    public let workdir: String
    /// Hash of the job file's text, recorded with each run.
    public let jobHash: String
    /// `--export` variables: the submitting shell's values, for every module on every host.
    public let exported: [EnvironmentVariable]
    /// One per stage, in the job's order.
    public let recipes: [StageRecipe]

    public init(graph: InstanceGraph, jobFolder: String, jobHash: String = "", exported: [EnvironmentVariable] = []) {
        self.graph = graph
        self.exported = exported
        self.jobFolder = jobFolder
        self.jobHash = jobHash
        let job = graph.job
        let workdir = normalized(resolved(job.workdir, in: jobFolder))
        self.workdir = workdir
        recipes = job.stages.enumerated().map { index, stage in
            StageRecipe(
                stage: index, stageName: stage.name, study: job.study, command: stage.command,
                setup: [job.setup, stage.setup].compactMap { $0 }, directory: jobFolder, workdir: workdir,
                // Thread counts first: the job's env and --export override them.
                environment: ModuleEnvironment.threadDefaults(cpus: stage.cpus, jobEnvironment: job.environment)
                    + job.environment + exported,
                cpus: stage.cpus, timeoutSeconds: stage.timeout ?? 0, perSession: stage.domain == .session,
                perItem: stage.foreach != nil, listsItems: stage.listsItems)
        }
    }

    /// `workdir/stage[/subject[/session]]` (see `StageRecipe.instanceFolder`).
    public func instanceFolder(of instance: InstanceID) -> String {
        let labels = graph.labels(of: instance)
        return recipes[graph.stage(of: instance)].instanceFolder(subject: labels.subject, session: labels.session,
                                                                 item: graph.item(of: instance) ?? "")
    }

    /// `workdir/.attempts/stage[/subject[/session]]/N` (see `StageRecipe.attemptFolder`).
    public func attemptFolder(of instance: InstanceID, attempt: Int) -> String {
        let labels = graph.labels(of: instance)
        return recipes[graph.stage(of: instance)].attemptFolder(subject: labels.subject, session: labels.session,
                                                                item: graph.item(of: instance) ?? "", attempt: attempt)
    }

    /// `path` as seen from the job file's folder when it lies inside it
    /// (`out/.attempts/...`), else absolute: what the journal records.
    public func display(_ path: String) -> String {
        path.hasPrefix(jobFolder + "/") ? String(path.dropFirst(jobFolder.count + 1)) : path
    }

    /// The `until:` file of a watched instance (DESIGN §8), absolute; nil
    /// when its stage names none.
    public func untilFile(of instance: InstanceID) -> String? {
        guard let until = graph.job.stages[graph.stage(of: instance)].until else { return nil }
        let labels = graph.labels(of: instance)
        let path = CommandTemplate.filledIn(until) { placeholder in
            switch placeholder {
            case .study: graph.job.study
            case .subject: labels.subject
            case .session: labels.session
            case .workdir: instanceFolder(of: instance)
            case .item: ""
            }
        }
        return normalized(resolved(path, in: jobFolder))
    }

    /// Attempt `attempt` (counted over every run) of `instance`, as sent to a worker rank.
    public func assignment(for instance: InstanceID, attempt: Int) -> TaskAssignment {
        let labels = graph.labels(of: instance)
        var assignment = TaskAssignment(instance: instance, stage: graph.stage(of: instance), subject: labels.subject,
                                        session: labels.session, attempt: attempt)
        if let item = graph.item(of: instance) { assignment.item = item }
        return assignment
    }

    /// The whole order of attempt `attempt` of `instance`, as a worker makes it.
    public func order(for instance: InstanceID, attempt: Int) -> TaskOrder {
        order(for: assignment(for: instance, attempt: attempt))
    }

    public func order(for assignment: TaskAssignment) -> TaskOrder {
        recipes[assignment.stage].order(for: assignment)
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
