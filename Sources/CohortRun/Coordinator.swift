public import CohortCore
import CohortMPI
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

    let factory: TaskFactory
    let transport: (any SchedulerTransport)?
    let localRunner: ModuleRunner?
    let policy: WorkerPolicy
    let reporter: any RunReporter
    let clock: () -> Double
    let journal: JournalFile?
    let plan: ResumePlan
    /// Attempts of each instance in earlier runs: attempt numbers go on from there.
    let history: JournalHistory
    /// `--force`, journaled once the run starts (already applied to `history` and the plan).
    let force: ForceRequest?
    /// What each success was made from.
    private var lineage: RunLineage
    /// Failed attempts of instances retried in this run, for the summary.
    private var failedAttempts: [InstanceID: [FailedAttempt]] = [:]
    /// Instances that succeeded after retries in this run.
    private var retried: [RetriedInstance] = []
    /// Worker ranks that left the run on a signal of their own.
    private var leaving: Set<WorkerID> = []
    /// Workers drained in this run, and why.
    private var drained: [DrainedWorker] = []
    /// Per stage: wall time and peak memory of the attempts that ended in this run.
    private var resources: [StageResources]
    /// The progress total: what this run will try.
    private let toRunCount: Int
    let stopSignal: () -> Int32?
    /// When the allocation ends (seconds since the epoch), if known, and each
    /// stage's typical duration: what would not finish in time is not started.
    let walltime: Walltime?
    let wallClock: () -> Double
    /// As the user gave it, for the summary's rerun commands.
    let jobFile: String
    private var heldStages: Set<Int> = []
    private var announcedHolds: Set<Int> = []

    private var scheduler: Scheduler
    private var workers: [WorkerID: WorkerInfo] = [:]
    private var failures: [FailureRecord] = []
    private var finishedCount = 0
    private var startTime = 0.0
    private var stoppedBy: Int32?
    private var stopStarted = 0.0
    private var graph: InstanceGraph { factory.graph }

    public init(
        factory: TaskFactory, transport: (any SchedulerTransport)?, localRunner: ModuleRunner?,
        policy: WorkerPolicy, reporter: any RunReporter, journal: JournalFile? = nil,
        history: JournalHistory = JournalHistory(), plan: ResumePlan? = nil, definitions: Definitions? = nil,
        runID: String = "run", force: ForceRequest? = nil, selection: Selection = .everything, outlook: RunOutlook? = nil,
        jobFile: String = "job.yml",
        scheduling: SchedulingPolicy = .criticalPath(), walltime: Walltime? = nil,
        clock: @escaping () -> Double = monotonicSeconds, wallClock: @escaping () -> Double = epochSeconds,
        stopSignal: @escaping () -> Int32? = { StopSignals.pending }
    ) {
        self.walltime = walltime
        self.wallClock = wallClock
        self.jobFile = jobFile
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
        self.lineage = RunLineage(plan: plan, definitions: definitions, runID: runID)
        self.toRunCount = (outlook ?? RunOutlook(plan: plan, graph: factory.graph, selection: selection)).toRunCount
        self.stopSignal = stopSignal
        self.resources = Array(repeating: StageResources(), count: factory.graph.job.stages.count)
        self.scheduler = Scheduler(graph: factory.graph, doneEarlier: plan.isDone, selection: selection, policy: scheduling)
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
                                      ranks: (transport?.workerRanks.count ?? 0) + 1, time: epochSeconds()))]
                   + (force.map { [.forced($0, time: epochSeconds())] } ?? []), durable: true)
        reporter.runStarted(study: graph.job.study, instances: graph.instanceCount, workers: joined)
        var pending = updateHolds()
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
        if stoppedBy == nil && !leaving.isEmpty && !scheduler.stuck.isEmpty {
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
            retried: retried, drained: stoppedBy == nil ? drained : drained.filter { !leaving.contains($0.worker.id) },
            resources: resources,
            elapsedSeconds: clock() - startTime,
            workers: joined.sorted { $0.id < $1.id }, jobFile: jobFile, stopSignal: stoppedBy,
            heldForWalltime: stoppedBy == nil && scheduler.isHoldingWork, stuck: stoppedBy == nil ? scheduler.stuck : [],
            tooLongForAnyAllocation: stoppedBy == nil && scheduler.isHoldingWork ? tooLongStages() : [])
    }

    private func loop(initial: [SchedulerAction]) throws {
        var backoff = IdleBackoff()
        var done = try perform(initial)
        while !done {
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
                case .finished(let report):
                    reports.append((report, WorkerID(rank)))
                case .draining(let reason):
                    // One rank told to stop (its node is going down): the run goes on without it.
                    guard stoppedBy == nil else { continue }
                    leaving.insert(WorkerID(rank))
                    if leaving.count == transport?.workerRanks.count {
                        // Every worker was told to stop (scancel, preemption, a
                        // Ctrl-C forwarded): the whole run stops, by this rank's
                        // own signal when it follows in a moment.
                        done = try beginStop(awaitOwnStopSignal(fallback: SIGTERM))
                        if done { return }
                        continue
                    }
                    drains += scheduler.drainWorker(WorkerID(rank), reason: "its rank \(reason); its running instances start again on the others")
                case .hello:
                    throw RunRefused(description: "rank \(rank) said hello twice")
                }
            }
            if !drains.isEmpty, try perform(drains) { break }
            for report in localRunner?.reapFinished() ?? [] { reports.append((report, Self.localWorker)) }
            if reports.isEmpty {
                done = try perform(updateHolds())
                backoff.pause()
                continue
            }
            backoff.reset()
            let holds = updateHolds()  // before the reports free room for new starts
            done = try perform(holds + (try handle(reports)))
        }
    }

    /// This rank's own stop signal, waited for a moment: signals reach the
    /// ranks of a job in no fixed order. `fallback` when none comes.
    private func awaitOwnStopSignal(fallback: Int32) -> Int32 {
        let waitStarted = clock()
        while clock() - waitStarted < Self.stopFollowsDrainWait {
            if let signal = stopSignal() { return signal }
            usleep(20_000)
        }
        return fallback
    }

    /// Held stages with work left that would not fit even in a fresh allocation of this length.
    private func tooLongStages() -> [TooLongStage] {
        guard let walltime, let start = walltime.start else { return [] }
        return heldStages.sorted().filter { walltime.neverFits($0) && scheduler.tallies[$0].waiting + scheduler.tallies[$0].ready > 0 }
            .map { TooLongStage(name: graph.job.stages[$0].name, typicalSeconds: walltime.stageDurations[$0] ?? 0,
                                allocationSeconds: walltime.usableEnd - start) }
    }

    /// Stages whose typical duration no longer fits before the allocation ends.
    private func updateHolds() -> [SchedulerAction] {
        guard let walltime, stoppedBy == nil else { return [] }
        let left = walltime.usableEnd - wallClock()
        var held: Set<Int> = []
        for (stage, duration) in walltime.stageDurations.enumerated() {
            if let duration, duration > left { held.insert(stage) }
        }
        guard held != heldStages else { return [] }
        heldStages = held
        for stage in held.subtracting(announcedHolds).sorted()
        where scheduler.tallies[stage].waiting + scheduler.tallies[stage].ready > 0 {
            let name = graph.job.stages[stage].name
            reporter.holding(stage: name, typicalSeconds: walltime.stageDurations[stage] ?? 0, secondsLeft: max(0, left))
        }
        announcedHolds.formUnion(held.filter { scheduler.tallies[$0].waiting + scheduler.tallies[$0].ready > 0 })
        return scheduler.hold(stages: held)
    }

    /// Stop dispatching, stop every running module, and finish once they report.
    private func beginStop(_ signal: Int32) throws -> Bool {
        stoppedBy = signal
        stopStarted = clock()
        let dead = deadWorkers()
        if !dead.isEmpty {
            // Named at once, durably: mpirun kills this rank a moment later.
            try record(dead.map { .drained(rank: $0.id.rawValue, host: $0.host, reason: "the rank died (pid \($0.pid) is gone); mpirun ends the job",
                                           time: epochSeconds()) }, durable: true)
            for worker in dead { reporter.workerDied(worker) }
        }
        reporter.stopping(signal: StopSignals.name(signal))
        localRunner?.terminateAll()
        for rank in transport?.workerRanks ?? [] { try transport?.send(.terminate, to: rank) }
        return try perform(scheduler.stopRequested())
    }

    /// Records a batch of reports (one fsync for all successes), then tells the scheduler.
    private func handle(_ reports: [(TaskReport, WorkerID)]) throws -> [SchedulerAction] {
        var records: [JournalRecord] = []
        var results: [(InstanceID, AttemptResult, TaskReport, WorkerID)] = []
        for (report, worker) in reports {
            guard let index = Int32(exactly: report.instance), index >= 0, Int(index) < graph.instanceCount,
                  scheduler.state(of: InstanceID(rawValue: index)) == .running
            else { continue }  // a report for nothing we sent: ignore rather than corrupt state
            let instance = InstanceID(rawValue: index)
            let result: AttemptResult = report.outcome.succeeded ? .succeeded : stoppedBy != nil ? .interrupted
                : leaving.contains(worker) ? .lost : .failed
            let attempt = attempt(instance, on: worker)
            let made = result == .succeeded ? lineage.succeeded(instance, attempt: attempt.attempt) : nil
            records.append(.finished(attempt, JournalRecord.Ending(
                outcome: journalOutcome(report.outcome, result), wallSeconds: report.wallSeconds,
                peakMemoryKiB: Int(report.peakMemoryKiB), lineage: made)))
            results.append((instance, result, report, worker))
            if result != .interrupted && result != .lost {
                resources[graph.stage(of: instance)].add(wallSeconds: report.wallSeconds, peakMemoryKiB: report.peakMemoryKiB)
            }
        }
        // A success counts only once it is on disk.
        try record(records, durable: results.contains { $0.1 == .succeeded })
        var actions: [SchedulerAction] = []
        for (instance, result, report, worker) in results {
            let name = graph.name(of: instance)
            let info = workers[worker] ?? WorkerInfo(id: worker, host: "?", profile: WorkerProfile(capacity: Capacity(cpus: 0, memory: 0)))
            let attemptNumber = attemptNumber(of: instance)
            let attemptFolder = factory.attemptFolder(of: instance, attempt: attemptNumber)
            let next = scheduler.instanceFinished(instance, result: result, wallSeconds: report.wallSeconds)
            let retrying = next.contains { if case .retry(instance, _) = $0 { true } else { false } }
            if result != .interrupted && result != .lost && !retrying { finishedCount += 1 }
            if result == .failed && !retrying {
                failures.append(FailureRecord(
                    name: name, outcome: report.outcome, worker: info, logFolder: attemptFolder,
                    logTail: report.logTail, wallSeconds: report.wallSeconds, attempt: attemptNumber,
                    earlierAttempts: failedAttempts.removeValue(forKey: instance) ?? []))
            } else if retrying {
                failedAttempts[instance, default: []].append(
                    FailedAttempt(attempt: attemptNumber, outcome: report.outcome, logFolder: attemptFolder))
            } else if let earlier = failedAttempts.removeValue(forKey: instance), result == .succeeded {
                retried.append(RetriedInstance(name: name, failedAttempts: earlier))
            }
            reporter.instanceFinished(name, report: report, on: info, interrupted: result == .interrupted || result == .lost,
                                      finished: finishedCount, total: toRunCount)
            actions += next
        }
        return actions
    }

    /// Carries out actions; true once the scheduler says the run is finished.
    private func perform(_ actions: [SchedulerAction]) throws -> Bool {
        var records: [JournalRecord] = []
        for action in actions {
            switch action {
            case .start(let instance, let worker):
                records.append(.started(attempt(instance, on: worker, logs: true)))
            case .skip(let instance, let cause):
                records.append(.skipped(instance: graph.name(of: instance), cause: graph.name(of: cause), time: epochSeconds()))
            case .drain(let worker, let reason):
                records.append(.drained(rank: worker.rawValue, host: workers[worker]?.host ?? "?", reason: reason, time: epochSeconds()))
            case .retry, .stopWorker, .finish:
                break
            }
        }
        try record(records, durable: false)
        var finished = false
        var immediate: [(TaskReport, WorkerID)] = []
        for action in actions {
            switch action {
            case .start(let instance, let worker):
                let order = factory.order(for: instance, attempt: attemptNumber(of: instance))
                if let info = workers[worker] { reporter.instanceStarted(order.name, on: info) }
                if worker == Self.localWorker, let localRunner {
                    if let report = localRunner.start(order) { immediate.append((report, worker)) }
                } else {
                    try transport?.send(.run(order), to: worker.rawValue)
                }
            case .skip(let instance, let cause):
                finishedCount += 1
                reporter.instanceSkipped(graph.name(of: instance), because: graph.name(of: cause))
            case .retry(let instance, let attempt):
                reporter.instanceRetrying(graph.name(of: instance), retry: attempt - 1,
                                          of: graph.job.stages[graph.stage(of: instance)].retries,
                                          attempt: attemptNumber(of: instance))
            case .stopWorker(let worker):
                if worker != Self.localWorker { try transport?.send(.stop, to: worker.rawValue) }
            case .drain(let worker, let reason):
                let info = workers[worker] ?? WorkerInfo(id: worker, host: "?", profile: WorkerProfile(capacity: Capacity(cpus: 0, memory: 0)))
                drained.append(DrainedWorker(worker: info, reason: reason))
                reporter.workerDrained(info, reason: reason)
            case .finish:
                finished = true
            }
        }
        if !immediate.isEmpty { finished = try perform(try handle(immediate)) || finished }
        return finished
    }

    /// Waits for every worker rank's hello. With none, rank 0 is the worker;
    /// beside worker ranks, rank 0 also runs `on: rank0` stages, and only those.
    private func gatherWorkers() throws -> [WorkerInfo] {
        let host = Machine.hostName
        let offer = Machine.offer
        let here = WorkerHello(host: host, pid: 0, machineCores: Int64(offer.cores), machineMemory: offer.memory)
        guard let transport, !transport.workerRanks.isEmpty else {
            let capacity = policy.capacities(for: [(0, here)])[0]!
            let profile = WorkerProfile(capacity: capacity, labels: policy.labels(rank: 0, host: host))
            return [WorkerInfo(id: Self.localWorker, host: host, profile: profile)]
        }
        var hellos: [Int: WorkerHello] = [:]
        var backoff = IdleBackoff()
        while hellos.count < transport.workerRanks.count {
            guard let (rank, message) = try transport.poll() else {
                backoff.pause()
                continue
            }
            guard case .hello(let hello) = message else {
                throw RunRefused(description: "rank \(rank) reported a task before saying hello")
            }
            hellos[rank] = hello
        }
        var all = hellos.map { ($0.key, $0.value) }
        let rankZeroStages = graph.job.stages.contains { $0.on == WorkerPolicy.rankZeroLabel }
        if rankZeroStages && localRunner != nil { all.append((0, here)) }
        let capacities = policy.capacities(for: all)
        return all.map(\.0).sorted().map { rank in
            let host = rank == 0 ? host : hellos[rank]!.host
            let profile = WorkerProfile(capacity: capacities[rank]!, labels: policy.labels(rank: rank, host: host),
                                        exclusive: rank == 0)
            return WorkerInfo(id: WorkerID(rank), host: host, profile: profile, pid: rank == 0 ? 0 : Int(hellos[rank]!.pid))
        }
    }

    /// Worker ranks on this host whose process is gone: when one dies,
    /// mpirun ends the job with SIGTERM, and the stop should say why.
    private func deadWorkers() -> [WorkerInfo] {
        let here = Machine.hostName
        return workers.values.filter { $0.pid > 0 && $0.host == here && kill(pid_t($0.pid), 0) != 0 && errno == ESRCH }
            .sorted { $0.id < $1.id }
    }

    /// The instance's attempt number over every run: earlier runs' attempts, then this run's.
    private func attemptNumber(of instance: InstanceID) -> Int {
        (history[graph.name(of: instance)]?.attempts ?? 0) + scheduler.attempt(of: instance)
    }

    private func attempt(_ instance: InstanceID, on worker: WorkerID, logs: Bool = false) -> JournalRecord.Attempt {
        let number = attemptNumber(of: instance)
        return JournalRecord.Attempt(
            instance: graph.name(of: instance), attempt: number, rank: worker.rawValue,
            host: workers[worker]?.host ?? "?", time: epochSeconds(),
            logs: logs ? factory.display(factory.attemptFolder(of: instance, attempt: number)) : nil)
    }

    private func journalOutcome(_ outcome: TaskOutcome, _ result: AttemptResult) -> JournalRecord.Ending.Outcome {
        if result == .interrupted || result == .lost { return .interrupted }
        switch outcome {
        case .exited(0): return .succeeded
        case .exited(let code): return .exited(Int(code))
        case .signaled(let signal): return .signaled(Int(signal))
        case .timedOut: return .timedOut
        case .couldNotStart(let reason): return .couldNotStart(reason)
        }
    }

    private func record(_ records: [JournalRecord], durable: Bool) throws {
        try journal?.append(records, durable: durable)
    }

    private func stopAllWorkers() {
        for rank in transport?.workerRanks ?? [] { try? transport?.send(.stop, to: rank) }
    }
}

/// Seconds since the epoch, for journal timestamps people read.
public func epochSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
