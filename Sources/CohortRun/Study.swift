public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// A job file and its study's state folder, opened: what every command
/// asks (`run`, `status`, `validate`, and next `plan` and `report`) — the
/// job, its instance graph, its journal history, its resume plan.
public struct Study: Sendable {
    /// The job file as the user named it: for messages and rerun commands.
    public let jobFile: String
    /// Absolute folder of the job file: modules' working directory, and
    /// what every relative path in the job is relative to.
    public let jobFolder: String
    public let job: Job
    /// Hash of the job file's text, recorded with each run.
    public let jobHash: String
    /// With the items its generators listed once `listItems(from:)` has run.
    public internal(set) var graph: InstanceGraph
    /// Folders and rows of the job's dataset that are not run, one located
    /// line each (empty when its subjects are listed in the job file).
    public let datasetWarnings: [String]
    /// `.cohort/<study>/` beside the job file: the journal and the run lock.
    public internal(set) var state: StateFolder

    /// Reads and checks the job file, finds its subjects on disk if it says
    /// so, and expands its instances. Throws a `JobFileError` naming each
    /// problem's place, or the graph's error. `recordedTreeIfUnreadable`
    /// (status, report, graph: they read what was done): a dataset that
    /// cannot be read now (not mounted on this login node) is replaced by
    /// the subjects the last run journaled, with a warning saying so.
    public init(jobFile: String, recordedTreeIfUnreadable: Bool = false) throws {
        let (loaded, hash) = try JobFileReader.loadWithHash(path: jobFile)
        let jobFolder = JobFileReader.folder(of: jobFile)
        var (job, warnings) = (loaded, [String]())
        do {
            (job, warnings) = try DatasetReader.discover(loaded, jobFile: jobFile, jobFolder: jobFolder)
        } catch {
            let state = StateFolder(jobFolder: jobFolder, study: loaded.study)
            guard recordedTreeIfUnreadable, let tree = JournalReading.read(journal: state.journal, snapshot: state.snapshot)?.history.studyTree,
                  !tree.sessions.isEmpty else { throw error }
            job.subjects = tree.sessions.keys.sorted().map { Subject(name: $0, sessions: tree.sessions[$0] ?? []) }
            warnings = ["\(error.description): warning: showing the \(job.subjects.count) subjects the last run recorded"]
        }
        self.jobFile = jobFile
        self.job = job
        self.jobHash = hash
        self.datasetWarnings = warnings
        self.graph = try InstanceGraph(job: job)
        self.jobFolder = jobFolder
        self.state = StateFolder(jobFolder: jobFolder, study: job.study)
    }

    /// Adds the items each generator instance last listed, as the journal
    /// says (DESIGN §8): a resumed run, plan and status know them without
    /// running the generators again.
    public mutating func listItems(from history: JournalHistory) {
        guard !history.itemLists.isEmpty else { return }
        for stage in job.stages.indices where job.stages[stage].listsItems && !graph.foreachStages(of: stage).isEmpty {
            for index in graph.instances(ofStage: stage) {
                if let items = history.itemLists[graph.name(of: InstanceID(index))] { graph.list(items, by: InstanceID(index)) }
            }
        }
    }

    /// "study S, N subjects, N sessions, N stages, N instances".
    public var summaryLine: String {
        "study \(job.study), \(job.subjects.count) subjects, \(graph.sessionCount) sessions, \(job.stages.count) stages, \(graph.instanceCount) instances"
    }

    /// What the journal says so far; nil before the first run. Takes no
    /// lock; with `refreshingSnapshot` and no run live, a snapshot of what it
    /// read replaces an older one when that saves later readers real work
    /// (best effort).
    public func history(refreshingSnapshot: Bool = false) -> JournalHistory? {
        // Not while a run holds the study: what it is writing may read torn or
        // unflushed from another host (the run snapshots at its end anyway).
        let liveBefore = RunLock.isHeld(path: state.lock)
        guard let read = JournalReading.read(journal: state.journal, snapshot: state.snapshot) else { return nil }
        if refreshingSnapshot && read.parsedBytes >= JournalReading.worthSnapshotting && !liveBefore
            && !RunLock.isHeld(path: state.lock) {
            JournalReading.writeSnapshot(read, to: state.snapshot)
        }
        return read.history
    }


    /// How each instance is defined now, for a run: a module script that
    /// cannot be read refuses the run.
    public func definitions() throws(ModuleScripts.Unreadable) -> Definitions {
        Definitions(graph: graph, scriptDigests: try ModuleScripts.digests(job: job, jobFolder: jobFolder),
                    earlierScriptDigests: ModuleScripts.earlierDigests(job: job, jobFolder: jobFolder))
    }

    /// How each instance is defined now, for a report: a script that cannot
    /// be read makes its stage show as changed, with a warning.
    public func definitionsForReading() -> (definitions: Definitions, warnings: [String]) {
        let (scripts, unreadable) = ModuleScripts.digestsOfWhatCanBeRead(job: job, jobFolder: jobFolder)
        let definitions = Definitions(graph: graph, scriptDigests: scripts,
                                      earlierScriptDigests: ModuleScripts.earlierDigests(job: job, jobFolder: jobFolder))
        return (definitions, unreadable.map { "cohort: warning: \($0); its stage is shown as changed" })
    }

    /// What is done and current, and what a run would redo and why.
    public func plan(history: JournalHistory, definitions: Definitions) -> ResumePlan {
        ResumePlan(graph: graph, history: history, definitions: definitions)
    }

    /// Orders for workers; `exported` are `--export` variables.
    public func taskFactory(exported: [EnvironmentVariable] = []) -> TaskFactory {
        TaskFactory(graph: graph, jobFolder: jobFolder, jobHash: jobHash, exported: exported)
    }

    /// Everything on disk that would refuse a run (missing scripts, an
    /// unwritable workdir), one located line each. With `createWorkdir`
    /// and no other problem, the workdir is created.
    public func problemsBeforeRunning(createWorkdir: Bool) -> [String] {
        Preflight.problems(job: job, jobFile: jobFile, factory: taskFactory(), createWorkdir: createWorkdir)
    }

    /// Stages whose module script Cohort cannot name, one located warning each.
    public var untrackedScriptWarnings: [String] { Preflight.untrackedScripts(job: job, jobFile: jobFile) }

    /// Whether a run works on the study now, decided by probing its lock.
    public func runState(history: JournalHistory) -> StatusText.RunState {
        let note = JobFileReader.readOptional(state.lock)?.trimmingTrailingNewlines() ?? ""
        if RunLock.isHeld(path: state.lock) { return .live(note) }
        return history.lastRunEnded ? .none : .died(note, lastRecord: history.lastRecordTime)
    }

    /// `cohort status`: what the journal says, and warnings for stderr; nil
    /// before the first run unless `withoutJournal` (then: nothing done yet).
    /// Takes no lock.
    public func statusReport(withoutJournal: Bool = false) -> (report: StatusReport?, warnings: [String]) {
        guard let history = history(refreshingSnapshot: true) ?? (withoutJournal ? JournalHistory() : nil) else { return (nil, []) }
        var study = self
        study.listItems(from: history)
        return study.statusReport(of: history)
    }

    private func statusReport(of history: JournalHistory) -> (report: StatusReport?, warnings: [String]) {
        let (definitions, warnings) = definitionsForReading()
        let plan = plan(history: history, definitions: definitions)
        let state = runState(history: history)
        let isLive = if case .live = state { true } else { false }
        // What the last run left alone (its --only/--subjects, if they still name this job's instances).
        let lastRun = history.lastRun
        let selection = lastRun.flatMap { try? Selection(only: $0.only, subjects: $0.subjects, graph: graph) } ?? .everything
        let status = StudyStatus(graph: graph, history: history, plan: plan, runIsLive: isLive, lastSelection: selection)
        return (StatusReport(jobFile: jobFile, journalPath: self.state.journal, history: history, status: status, run: state,
                             factory: taskFactory()), datasetWarnings + warnings)
    }

    /// What `cohort status` says before the first run.
    public var noRunYet: String {
        "study \(job.study): no run yet (no journal at \(state.journal)); \(graph.instanceCount) instance\(graph.instanceCount == 1 ? "" : "s") to do"
    }

    /// Journals that a rank died, as mpirun reported it after the MPI job
    /// ended (`mpirun.sh` calls this). Rank 0 names a dead rank on its own
    /// host itself; one on another host only mpirun sees. Takes the run lock
    /// like a run (throws `RunLock.Held` when a run holds the study).
    public func noteLostRank(_ rank: Int, host: String, why: String) throws {
        guard let text = JobFileReader.readOptional(state.journal) else { return }
        // Rank 0 may have named it already (a rank on its own host).
        let sinceLastRun = text.split(separator: "\n").reversed().prefix { !$0.contains("\trun\t") }
        if sinceLastRun.contains(where: { $0.contains("\tdrain\trank=\(rank)\t") }) { return }
        let lock = try RunLock.acquire(path: state.lock, owner: "note-lost-rank, pid \(getpid())").lock
        defer { lock.release() }
        let journal = try JournalFile(path: state.journal)
        try journal.append([.drained(rank: rank, host: host, reason: "the rank died (mpirun: \(why))", time: epochSeconds())],
                           durable: true)
    }
}
