public import CohortCore
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Why a run could not start at all (exit code 2: nothing ran).
public struct RunRefused: Error, CustomStringConvertible {
    public var description: String
}

/// Rank 0: gathers workers, feeds the scheduler the events, records each
/// in the journal, and carries out the scheduler's actions. With no worker
/// ranks it runs instances itself, on `localRunner`.
public final class Coordinator {
    /// The pseudo-worker for instances rank 0 runs itself.
    public static let localWorker = WorkerID(0)
    /// How long a stopping run waits for its modules' reports before leaving anyway.
    public static let stopDeadline = 9.0
    /// How long a run whose workers left on signals waits for its own stop signal.
    static let stopFollowsDrainWait = 2.0
    /// Stages whose typical attempt is shorter than this get follow-ons on
    /// worker ranks (see `Scheduler.followOnsBelow`): a tenth of a second,
    /// a hundred times the round trip a follow-on saves.
    static let followOnsBelow = 0.1
    /// How often an idle loop looks for follow-ons stuck behind a slow attempt.
    static let recallCheckInterval = 0.1

    var factory: TaskFactory
    let transport: (any SchedulerTransport)?
    let localRunner: ModuleRunner?
    let policy: WorkerPolicy
    let reporter: any RunReporter
    /// Diagnostics (what is sent where, what comes back); progress goes to `reporter`.
    let logger: Logger
    let clock: () -> Double
    let journal: JournalFile?
    /// What earlier runs did (`plan.recorded`: each instance's attempts, from which numbering goes on).
    let plan: ResumePlan
    /// The journal as the run began: attempts of items listed during the
    /// run that earlier runs started (the plan has no place for them).
    let history: JournalHistory
    /// Those attempts, per item listed during the run (empty for most runs).
    var earlierAttempts: [InstanceID: Int] = [:]
    /// Per watched generator: the items its last success added, for the line that says so.
    var newlyListed: [InstanceID: Int] = [:]
    /// `--force`, journaled once the run starts (already applied to the history and the plan).
    let force: ForceRequest?
    /// The study tree, journaled with the run's start when it differs from the recorded one.
    let treeChange: StudyTreeChange?
    /// What each success was made from.
    var lineage: RunLineage
    /// Failed attempts of instances retried in this run, for the summary.
    var failedAttempts: [InstanceID: [FailedAttempt]] = [:]
    /// Instances that succeeded after retries in this run.
    var retried: [RetriedInstance] = []
    /// Workers drained in this run, and why.
    var drained: [DrainedWorker] = []
    /// Per stage: wall time and peak memory of the attempts that ended in this run.
    var resources: [StageResources]
    /// The progress total: what this run will try.
    var toRunCount: Int
    let stopSignal: () -> Int32?
    /// Read for walltime holds (the scheduler decides them).
    let wallClock: () -> Double
    /// As the user gave it, for the summary's rerun commands.
    let jobFile: String
    /// `--only` and `--subjects` as given: journaled with the run.
    let selectionWords: (only: [String], subjects: [String])

    var scheduler: Scheduler
    var workers: [WorkerID: WorkerInfo] = [:]
    var failures: [FailureRecord] = []
    var finishedCount = 0
    var startTime = 0.0
    var stoppedBy: Int32?
    var stopStarted = 0.0
    var lastRecallCheck = 0.0
    /// Borrowed, not copied: a copy retains and releases every array of
    /// the graph, several times per instance at the scheduler's ceiling.
    var graph: InstanceGraph {
        _read { yield factory.graph }
    }

    /// Asks the scheduler a question without copying it. A call from this
    /// module on a struct stored in a class copies the whole struct (every
    /// array and table retained and released) to keep it safe across the
    /// call; through `inout`, exclusive access makes that unneeded. The
    /// question may use only its argument: reading `self.scheduler` (or
    /// `attemptNumber(of:)`) inside it traps, the access being exclusive.
    @inline(__always)
    func ask<Answer>(_ question: (inout Scheduler) -> Answer) -> Answer { question(&scheduler) }

    public init(
        factory: TaskFactory, transport: (any SchedulerTransport)?, localRunner: ModuleRunner?,
        policy: WorkerPolicy, reporter: any RunReporter, journal: JournalFile? = nil,
        history: JournalHistory = JournalHistory(), plan: ResumePlan? = nil, definitions: Definitions? = nil,
        runID: String = "run", force: ForceRequest? = nil, treeChange: StudyTreeChange? = nil, selection: Selection = .everything, outlook: RunOutlook? = nil,
        jobFile: String = "job.yml", selectionWords: (only: [String], subjects: [String]) = ([], []), logger: Logger = .silent,
        scheduling: SchedulingPolicy = .criticalPath(), walltime: Walltime? = nil, endWatchesWhenIdle: Bool = false,
        clock: @escaping () -> Double = monotonicSeconds, wallClock: @escaping () -> Double = epochSeconds,
        stopSignal: @escaping () -> Int32? = { StopSignals.pending }
    ) {
        self.wallClock = wallClock
        self.jobFile = jobFile
        self.selectionWords = selectionWords
        self.logger = logger
        self.factory = factory
        self.transport = transport
        self.localRunner = localRunner
        self.policy = policy
        self.reporter = reporter
        self.clock = clock
        self.journal = journal
        let definitions = definitions ?? Definitions(graph: factory.graph)
        let plan = plan ?? ResumePlan(graph: factory.graph, history: history, definitions: definitions)
        self.plan = plan
        self.history = history
        self.force = force
        self.treeChange = treeChange
        self.lineage = RunLineage(plan: plan, definitions: definitions, runID: runID)
        self.toRunCount = (outlook ?? RunOutlook(plan: plan, graph: factory.graph, selection: selection)).toRunCount
        self.stopSignal = stopSignal
        self.resources = Array(repeating: StageResources(), count: factory.graph.job.stages.count)
        self.scheduler = Scheduler(graph: factory.graph, doneEarlier: plan.isDone, selection: selection, policy: scheduling,
                                   walltime: walltime, followOnsBelow: transport == nil ? 0 : Self.followOnsBelow,
                                   endWatchesWhenIdle: endWatchesWhenIdle,
                                   stillWatching: { plan.reasons[$0.index] == .watching || plan.reasons[$0.index] == nil })
    }

    /// Runs the job to the end (or to a stop signal) and returns its summary.
    public func run() throws -> RunSummary {
        startTime = clock()
        let joined = try gatherWorkers()
        let problems = Scheduler.unplaceableStages(of: graph.job, on: joined.map(\.profile))
        if !problems.isEmpty {
            stopAllWorkers()
            throw RunRefused(description: problems.map(\.description).joined(separator: "\n"))
        }
        try record([.runStarted(.init(id: lineage.runID, jobHash: factory.jobHash, host: Machine.hostName, pid: Int(getpid()),
                                      ranks: (transport?.workerRanks.count ?? 0) + 1, time: epochSeconds(),
                                      only: selectionWords.only, subjects: selectionWords.subjects))]
                   + (treeChange.map { [.studyTree($0)] } ?? [])
                   + (force.map { [.forced($0, time: epochSeconds())] } ?? [])
                   + joined.map { .workerJoined(rank: $0.id.rawValue, host: $0.host, cpus: $0.capacity.cpus, memory: $0.capacity.memory,
                                                time: epochSeconds()) },
                   durable: true)
        // Before any order: each worker makes its orders from these.
        for worker in joined where worker.id != Self.localWorker {
            try transport?.send(.recipes(factory.recipes, workerCpus: worker.profile.capacity.cpus), to: worker.id.rawValue)
        }
        // Generators that will run (not done earlier) may add instances.
        let listsItems = graph.job.stages.indices.contains { stage in
            graph.job.stages[stage].listsItems && graph.instances(ofStage: stage).contains { !plan.isDone(InstanceID($0)) }
        }
        reporter.runStarted(study: graph.job.study, instances: graph.instanceCount, listsItems: listsItems, workers: joined)
        var pending = scheduler.timePassed(now: wallClock())
        for worker in joined {
            workers[worker.id] = worker
            pending += scheduler.workerJoined(worker.id, profile: worker.profile)
        }
        pending += scheduler.allWorkersJoined()
        do {
            try loop(initial: pending)
        } catch {
            // The journal can no longer be trusted to take records: stop every module, then say why.
            localRunner?.terminateAll()
            for rank in transport?.workerRanks ?? [] { try? transport?.send(.terminate, to: rank) }
            stopAllWorkers()
            throw error
        }
        if stoppedBy == nil && !scheduler.leaving.isEmpty && !scheduler.stuck.isEmpty {
            // Workers left on signals and what remains cannot run: the signal
            // to this rank is usually a moment behind theirs (scancel).
            let signal = awaitOwnStopSignal(fallback: 0)
            if signal != 0 { stoppedBy = signal }
        }
        let reason = stoppedBy.map { "stopped by \(StopSignals.name($0))" }
            ?? (scheduler.isHoldingWork ? "stopped: too little walltime left"
                : scheduler.stuck.isEmpty ? "finished" : "stuck: " + scheduler.stuck.map(\.description).joined(separator: "; "))
        try record([.runEnded(reason: reason, time: epochSeconds())], durable: true)
        return RunSummary(
            study: graph.job.study, stageNames: graph.job.stages.map(\.name),
            tallies: scheduler.tallies, failures: failures,
            // Workers that left on a signal that was the whole run's stop were not broken.
            retried: retried, drained: stoppedBy == nil ? drained : drained.filter { !scheduler.leaving.contains($0.worker.id) },
            resources: resources, stageGPUs: graph.job.stages.contains { $0.gpus > 0 } ? graph.job.stages.map { $0.gpus * $0.nodes } : [],
            elapsedSeconds: clock() - startTime,
            workers: joined.sorted { $0.id < $1.id }, jobFile: jobFile, stopSignal: stoppedBy,
            heldForWalltime: stoppedBy == nil && scheduler.isHoldingWork, stuck: stoppedBy == nil ? scheduler.stuck : [],
            tooLongForAnyAllocation: stoppedBy == nil && scheduler.isHoldingWork ? scheduler.tooLongForAnyAllocation : [])
    }

    func loop(initial: [SchedulerAction]) throws {
        var backoff = IdleBackoff()
        var done = try perform(initial)
        while !done {
            reporter.tick()
            if stoppedBy == nil, let signal = stopSignal() {
                done = try beginStop(signal)
                if done { break }
            }
            // A second stop signal: stop now, without waiting for the modules' reports.
            if stoppedBy != nil, clock() - stopStarted > Self.stopDeadline || StopSignals.count > 1 {
                if StopSignals.count > 1 { localRunner?.killAllNow() }
                stopAllWorkers()  // modules that ignore SIGTERM get SIGKILL from their supervisors
                return
            }
            var reports: [(TaskReport, WorkerID)] = []
            var drains: [SchedulerAction] = []
            while let (rank, message) = try transport?.poll() {
                switch message {
                case .finished(let batch):
                    reports += batch.map { ($0, WorkerID(rank)) }
                case .draining(let reason):
                    // One rank told to stop (its node is going down): the run goes on without it.
                    guard stoppedBy == nil else { continue }
                    if scheduler.leaving.union([WorkerID(rank)]).count == transport?.workerRanks.count {
                        // Every worker was told to stop (scancel, preemption, a
                        // Ctrl-C forwarded): the whole run stops, by this rank's
                        // own signal when it follows in a moment.
                        done = try beginStop(awaitOwnStopSignal(fallback: SIGTERM))
                        if done { return }
                        continue
                    }
                    drains += scheduler.workerLeaving(WorkerID(rank), reason: "its rank \(reason); its running instances start again on the others")
                case .hello:
                    throw RunRefused(description: "rank \(rank) said hello twice")
                }
            }
            if !drains.isEmpty, try perform(drains) { break }
            for report in localRunner?.reapFinished() ?? [] { reports.append((report, Self.localWorker)) }
            if reports.isEmpty {
                done = try perform(scheduler.timePassed(now: wallClock()))
                if clock() - lastRecallCheck > Self.recallCheckInterval {
                    lastRecallCheck = clock()
                    done = try perform(scheduler.recallStuckFollowOns(now: lastRecallCheck)) || done
                }
                backoff.pause(waitingOn: localRunner?.reportDescriptor,
                              patience: ask { $0.noWorkerNeedsAnAnswer(within: 2 * IdleBackoff.rankZeroPatienceSeconds) }
                                  ? IdleBackoff.rankZeroPatience : nil)
                continue
            }
            backoff.reset()
            // Holds first, before the reports free room for new starts (and said first).
            let heldDone = try perform(scheduler.timePassed(now: wallClock()))
            done = try perform(try handle(reports)) || heldDone
        }
    }
}

/// Seconds since the epoch, for journal timestamps people read.
public func epochSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
