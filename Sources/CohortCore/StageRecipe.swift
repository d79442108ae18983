/// What every attempt of one stage shares: its command line before
/// substitution, setup, folders, environment and limits. Rank 0 sends each
/// worker rank the recipes once; an attempt then travels as a
/// `TaskAssignment` and the worker makes its `TaskOrder` here. Rank 0
/// makes its own orders (one process, `on: rank0`) the same way, so a
/// module sees the same thing wherever it runs.
public struct StageRecipe: Equatable, Sendable {
    public let stage: Int
    public let stageName: String
    public let study: String
    /// The `run` line as written, placeholders unsubstituted.
    public let command: String
    /// `setup:` snippets (the job's, then the stage's) run before it in the same shell.
    public let setup: [String]
    /// Absolute folder of the job file: modules' working directory.
    public let directory: String
    /// Absolute workdir: instance folders go under it.
    public let workdir: String
    /// The stage's share of every module's environment (thread counts, the job's env, `--export`).
    public let environment: [EnvironmentVariable]
    public let cpus: Int
    /// Seconds an attempt may run; 0 for no limit.
    public let timeoutSeconds: Double
    /// Runs once per session: an implicit session ("", a BIDS subject
    /// without `ses-*`) gets a folder of its own (`implicitSessionFolder`),
    /// so that no instance folder ever holds another's (sessions that appear
    /// later sit beside it, and moving one aside never takes the others).
    public let perSession: Bool
    /// Runs once per item of a generator (`foreach`): its instances are
    /// named `…:item`, and their folders end in the item (`/` and `%`
    /// percent-escaped, so an item is one folder, never another's parent).
    public let perItem: Bool
    /// A generator (`items: true`): `$COHORT_ITEMS` names the file for its list.
    public let listsItems: Bool
    let template: CommandTemplate.Compiled

    /// Holds attempts' folders beside the stage folders; stage names never
    /// start with `.`, so no stage folder collides with it.
    public static let attemptsFolderName = ".attempts"
    /// The folder of an implicit session: BIDS sessions are `ses-*`, so it
    /// is never a real session's.
    public static let implicitSessionFolder = "no-session"
    /// A generator's list, in its attempt's folder (beside its logs).
    public static let itemsFileName = "items"
    /// A multi-node instance's hostfile, in its attempt's folder.
    public static let hostfileName = "hostfile"

    public init(stage: Int, stageName: String, study: String, command: String, setup: [String], directory: String,
                workdir: String, environment: [EnvironmentVariable], cpus: Int, timeoutSeconds: Double, perSession: Bool = false,
                perItem: Bool = false, listsItems: Bool = false) {
        self.perSession = perSession
        self.perItem = perItem
        self.listsItems = listsItems
        self.stage = stage
        self.stageName = stageName
        self.study = study
        self.command = command
        self.setup = setup.filter { !$0.isEmpty }
        self.directory = directory
        self.workdir = workdir
        self.environment = environment
        self.cpus = cpus
        self.timeoutSeconds = timeoutSeconds
        self.template = CommandTemplate.Compiled(command)
    }

    /// `stage[:subject[:session]][:item]`, as `InstanceGraph.name(of:)` spells it.
    public func instanceName(subject: String, session: String, item: String = "") -> String {
        var name = stageName
        if !subject.isEmpty { name += ":" + subject }
        if !session.isEmpty { name += ":" + session }
        if perItem { name += ":" + item }
        return name
    }

    /// An item as one folder name: `raw/m1.tif` is `raw%2Fm1.tif`.
    public static func folderName(ofItem item: String) -> String {
        guard item.contains("/") || item.contains("%") else { return item }
        return item.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
    }

    /// `workdir/stage[/subject[/session]]`: stage first, so that no subject
    /// or session name can collide with another stage's folder
    /// (`…/subject/no-session` for an implicit session).
    public func instanceFolder(subject: String, session: String, item: String = "") -> String {
        workdir + "/" + relativeFolder(subject: subject, session: session, item: item)
    }

    /// `workdir/.attempts/stage[/subject[/session]]/N`: attempt N's own
    /// folder, holding its logs, and its results once a later attempt has
    /// started (`files/`).
    public func attemptFolder(subject: String, session: String, item: String = "", attempt: Int) -> String {
        workdir + "/" + Self.attemptsFolderName + "/" + relativeFolder(subject: subject, session: session, item: item) + "/" + String(attempt)
    }

    private func relativeFolder(subject: String, session: String, item: String) -> String {
        var folder = stageName
        if !subject.isEmpty { folder += "/" + subject }
        if !session.isEmpty {
            folder += "/" + session
        } else if perSession {
            folder += "/" + Self.implicitSessionFolder
        }
        if perItem { folder += "/" + Self.folderName(ofItem: item) }
        return folder
    }

    /// The whole order for `assignment`, an attempt of this stage.
    public func order(for assignment: TaskAssignment) -> TaskOrder {
        let subject = assignment.subject, session = assignment.session, item = assignment.item
        let name = instanceName(subject: subject, session: session, item: item)
        let relative = relativeFolder(subject: subject, session: session, item: item)
        let folder = workdir + "/" + relative
        let attempts = workdir + "/" + Self.attemptsFolderName + "/" + relative + "/"
        let command = template.substitute { placeholder in
            switch placeholder {
            case .study: study
            case .subject: subject
            case .session: session
            case .workdir: folder
            case .item: item
            }
        }
        var instanceEnvironment: [EnvironmentVariable] = [
            .init(name: "COHORT_STUDY", value: study),
            .init(name: "COHORT_SUBJECT", value: subject),
            .init(name: "COHORT_SESSION", value: session),
            .init(name: "COHORT_STAGE", value: stageName),
            .init(name: "COHORT_WORKDIR", value: folder),
            .init(name: "COHORT_THREADS", value: String(cpus)),
            .init(name: "COHORT_INSTANCE", value: name),
            .init(name: "COHORT_ATTEMPT", value: String(assignment.attempt)),
        ]
        let attemptFolder = attempts + String(assignment.attempt)
        if perItem { instanceEnvironment.append(.init(name: "COHORT_ITEM", value: item)) }
        var hostfile: FileToWrite?
        if let hosts = assignment.hosts {
            // One line per host with the cpus reserved there: `mpirun --hostfile "$COHORT_HOSTFILE"`.
            hostfile = FileToWrite(path: attemptFolder + "/" + Self.hostfileName, text: hosts.map { "\($0) slots=\(cpus)\n" }.joined())
            instanceEnvironment.append(.init(name: "COHORT_NODES", value: hosts.joined(separator: ",")))
            instanceEnvironment.append(.init(name: "COHORT_HOSTFILE", value: attemptFolder + "/" + Self.hostfileName))
            // Inside Slurm its mpirun starts daemons on the other nodes with srun,
            // whose step must share the resources Cohort's own step holds (else it waits for ever).
            instanceEnvironment.append(.init(name: "SLURM_OVERLAP", value: "1"))
            if let devices = assignment.hostGPUs {
                // `n1=0,1 n2=2,3`: each node's own GPUs, for a wrapper that sets CUDA_VISIBLE_DEVICES per host.
                instanceEnvironment.append(.init(name: "COHORT_NODE_GPUS", value: zip(hosts, devices).map { "\($0)=\($1)" }.joined(separator: " ")))
            }
        }
        if let gpus = assignment.gpus {
            // Exactly its own devices; none for a stage without gpus (not another instance's).
            let devices = gpus.joined(separator: ",")
            instanceEnvironment.append(.init(name: "CUDA_VISIBLE_DEVICES", value: devices))
            instanceEnvironment.append(.init(name: "COHORT_GPUS", value: devices))
        }
        if listsItems { instanceEnvironment.append(.init(name: "COHORT_ITEMS", value: attemptFolder + "/" + Self.itemsFileName)) }
        var order = TaskOrder(
            instance: assignment.instance, name: name, command: (setup + [command]).joined(separator: "\n"),
            directory: directory, instanceFolder: folder, attemptFolder: attemptFolder,
            // What an earlier attempt left goes into that attempt's folder; before
            // the first recorded attempt, into "0" (files of unknown origin).
            asideFolder: attempts + String(max(0, assignment.attempt - 1)) + "/files",
            stageEnvironment: environment, instanceEnvironment: instanceEnvironment, cpus: cpus, timeoutSeconds: timeoutSeconds)
        order.after = assignment.after
        if listsItems { order.itemsFile = attemptFolder + "/" + Self.itemsFileName }
        order.hostfile = hostfile
        return order
    }
}
