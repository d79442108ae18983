import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Reports in, actions out: the journal records first, then the effects.
extension Coordinator {
    /// Records a batch of reports (one fsync for all successes), then tells
    /// the scheduler. Room the successes free that nothing waiting on them
    /// needs is handed out before the fsync, so their workers are not idle
    /// while it runs; the successes count only after it.
    func handle(_ reports: [(TaskReport, WorkerID)]) throws -> [SchedulerAction] {
        var records: [JournalRecord] = []
        var results: [(InstanceID, AttemptOutcome, TaskReport, WorkerID, name: String)] = []
        for (position, (report, worker)) in reports.enumerated() {
            let instance = report.instance
            guard instance.index < graph.instanceCount, ask({ $0.state(of: instance) }) == .running else {
                // A report for nothing we sent: ignore rather than corrupt state.
                logger.warning("ignored a report of instance \(instance.rawValue) from \(worker): it is not running")
                continue
            }
            // A follow-on reported after the end of the one ahead of it, in
            // this same batch: rank 0 still sees it queued, but its worker
            // started it (a worker gives a follow-on back before that end).
            let aheadEnded = ask { $0.queuedAhead(of: instance) }.map { ahead in
                reports[..<position].contains { $0.0.instance == ahead }
            } ?? false
            let outcome = ask { $0.settled(report.outcome, of: instance, aheadEnded: aheadEnded) }
            let number = attemptNumber(of: instance)
            let name = graph.name(of: instance)
            // Where its logs are, for `cohort status`: only failures are pointed to.
            let attempt = attempt(instance, name: name, on: worker, number: number,
                                  logs: outcome.isFailure ? factory.attemptFolder(of: instance, attempt: number) : nil)
            let made = outcome.succeeded ? lineage.succeeded(instance, name: name, attempt: attempt.attempt) : nil
            if outcome.succeeded, let items = report.items, graph.job.stages[graph.stage(of: instance)].listsItems {
                // In the same write as the success: a resumed run knows the items without running it again.
                records += itemRecords(items, of: instance, name: name, attempt: attempt.attempt)
            }
            records.append(.finished(attempt, JournalRecord.Ending(
                outcome: outcome, wallSeconds: report.wallSeconds, peakMemoryKiB: report.peakMemoryKiB, lineage: made)))
            results.append((instance, outcome, report, worker, name))
            if !outcome.isStoppedEarly {
                resources[graph.stage(of: instance)].add(wallSeconds: report.wallSeconds, peakMemoryKiB: Int64(report.peakMemoryKiB))
            }
        }
        try record(records, durable: false)
        if results.contains(where: { $0.1.succeeded }) {
            let early = scheduler.successesBeingRecorded(results.filter { $0.1.succeeded }.map(\.0))
            // Cannot finish the run: these successes are still running to the scheduler.
            _ = try perform(early)
            // A success counts only once it is on disk.
            try journal?.sync()
        }
        var actions: [SchedulerAction] = []
        // Items join the run before their generator's success counts (it makes them ready).
        for (instance, outcome, report, _, _) in results where outcome.succeeded {
            guard let items = report.items, graph.job.stages[graph.stage(of: instance)].listsItems else { continue }
            let listing = scheduler.list(items, by: instance)
            if graph.job.stages[graph.stage(of: instance)].watch != nil {
                // Items, not instances: each item has an instance per foreach stage.
                newlyListed[instance] = Set(listing.added.compactMap { scheduler.graph.item(of: $0) }).count
            }
            for item in listing.added where plan.recorded.read(item, { $0.attempts }) == nil {
                if let earlier = history[scheduler.graph.name(of: item)]?.attempts, earlier > 0 { earlierAttempts[item] = earlier }
            }
            factory.graph = scheduler.graph
            lineage.grow(to: scheduler.graph)
            toRunCount += listing.added.count
            for instance in listing.added { reporter.added(1, toStage: graph.job.stages[scheduler.graph.stage(of: instance)].name) }
            actions += listing.actions
        }
        for (instance, outcome, report, worker, name) in results {
            let info = workers[worker] ?? WorkerInfo(id: worker, host: "?", profile: WorkerProfile(capacity: Capacity(cpus: 0, memory: 0)))
            let attemptNumber = attemptNumber(of: instance)
            // A watched generator's look is not one more instance done.
            let look = ask { $0.isLook(instance) }
            // A follow-on still queued when its worker gave it back: it never started.
            let givenBack = outcome == .lost && ask { $0.queuedAhead(of: instance) } != nil
            let next = scheduler.instanceFinished(instance, outcome: outcome, wallSeconds: report.wallSeconds)
            let retrying = next.contains { if case .retry(instance, _) = $0 { true } else { false } }
            if !outcome.isStoppedEarly && !retrying && !look { finishedCount += 1 }
            let cause = outcome.isFailure
                ? FailureCause.explain(outcome, peakMemoryKiB: report.peakMemoryKiB,
                                       stageMemory: graph.job.stages[graph.stage(of: instance)].memory, stderrTail: report.logTail)
                : nil
            if outcome.isFailure && !retrying {
                failures.append(FailureRecord(
                    name: name, outcome: outcome, worker: info, logFolder: factory.attemptFolder(of: instance, attempt: attemptNumber),
                    logTail: report.logTail, wallSeconds: report.wallSeconds, attempt: attemptNumber,
                    earlierAttempts: failedAttempts.removeValue(forKey: instance) ?? [], cause: cause))
            } else if retrying {
                failedAttempts[instance, default: []].append(
                    FailedAttempt(attempt: attemptNumber, outcome: outcome,
                                  logFolder: factory.attemptFolder(of: instance, attempt: attemptNumber)))
            } else if outcome.succeeded, let earlier = failedAttempts.removeValue(forKey: instance) {
                retried.append(RetriedInstance(name: name, failedAttempts: earlier))
            }
            let endedEarly: EarlyEnd? = !outcome.isStoppedEarly ? nil
                : outcome == .interrupted ? .interrupted : givenBack ? .givenBack : .lost
            reporter.instanceFinished(name, report: report, on: info, endedEarly: endedEarly, cause: cause,
                                      finished: finishedCount, total: toRunCount)
            actions += next
        }
        return actions
    }

    /// Carries out actions; true once the scheduler says the run is finished.
    /// Starts on one worker rank leave as one message, after the journal
    /// has their start records.
    func perform(_ actions: [SchedulerAction]) throws -> Bool {
        var records: [JournalRecord] = []
        /// Each start's assignment and name, by its action's place in `actions`.
        var starts = [(TaskAssignment, name: String)?](repeating: nil, count: actions.count)
        for (place, action) in actions.enumerated() {
            switch action {
            case .start(let instance, let worker), .startAfter(let instance, let worker, _):
                var assignment = factory.assignment(for: instance, attempt: attemptNumber(of: instance))
                // Its own GPUs, or none on a host with GPUs (nil: a host without any).
                if workers[worker]?.onGPUHost == true { assignment.gpus = scheduler.devices(of: instance) }
                // A multi-node instance's hosts, for its hostfile (its own first).
                var alsoRanks: [Int] = []
                if graph.job.stages[graph.stage(of: instance)].nodes > 1 {
                    let gang = scheduler.gang(of: instance)
                    assignment.hosts = gang.map { workers[$0]?.host ?? "?" }
                    alsoRanks = gang.dropFirst().map(\.rawValue)
                    if graph.job.stages[graph.stage(of: instance)].gpus > 0 {
                        assignment.hostGPUs = scheduler.devicesByWorker(of: instance).map { $0.joined(separator: ",") }
                    }
                }
                let name = graph.name(of: instance)
                starts[place] = (assignment, name)
                var started = attempt(instance, name: name, on: worker, number: assignment.attempt)
                started.alsoRanks = alsoRanks
                records.append(.started(started))
                // A watch ends with the first look that starts once its `until` file exists.
                if let file = factory.untilFile(of: instance), access(file, F_OK) == 0 { scheduler.untilFileExists(for: instance) }
            case .skip(let instance, let cause):
                records.append(.skipped(instance: graph.name(of: instance), cause: graph.name(of: cause), time: epochSeconds()))
            case .drain(let worker, let reason):
                records.append(.drained(rank: worker.rawValue, host: workers[worker]?.host ?? "?", reason: reason, time: epochSeconds()))
            case .retry, .stopWorker, .holdStarted, .finish, .recall, .lookAgain, .watchEnded:
                break
            }
        }
        try record(records, durable: false)
        var finished = false
        var immediate: [(TaskReport, WorkerID)] = []
        var outgoing = OutgoingStarts()
        for (place, action) in actions.enumerated() {
            switch action {
            case .start(_, let worker):
                let (assignment, name) = starts[place]!
                if let info = workers[worker] { reporter.instanceStarted(name, on: info) }
                logger.debug("start \(name) on \(worker)")
                if worker == Self.localWorker, let localRunner {
                    if let report = localRunner.start(factory.order(for: assignment)) { immediate.append((report, worker)) }
                } else {
                    outgoing.add(assignment, to: worker)
                }
            case .startAfter(_, let worker, let ahead):
                precondition(worker != Self.localWorker, "only worker ranks queue follow-ons (WorkerProfile.queuesFollowOns)")
                var (assignment, name) = starts[place]!
                assignment.after = ahead
                if let info = workers[worker] { reporter.instanceStarted(name, on: info) }
                logger.debug("start \(name) on \(worker) after \(graph.name(of: ahead))")
                outgoing.add(assignment, to: worker)
            case .skip(let instance, let cause):
                finishedCount += 1
                reporter.instanceSkipped(graph.name(of: instance), because: graph.name(of: cause))
            case .retry(let instance, let attempt):
                reporter.instanceRetrying(graph.name(of: instance), retry: attempt - 1,
                                          of: graph.job.stages[graph.stage(of: instance)].retries,
                                          attempt: attemptNumber(of: instance))
            case .recall(let instance, let worker):
                logger.debug("recall \(graph.name(of: instance)) from \(worker): waiting too long behind a slow attempt")
                // After any start of it still on its way.
                try outgoing.send(to: worker, over: transport)
                try transport?.send(.recall(instance), to: worker.rawValue)
            case .stopWorker(let worker):
                if worker != Self.localWorker {
                    try outgoing.send(to: worker, over: transport)
                    try transport?.send(.stop, to: worker.rawValue)
                }
            case .drain(let worker, let reason):
                let info = workers[worker] ?? WorkerInfo(id: worker, host: "?", profile: WorkerProfile(capacity: Capacity(cpus: 0, memory: 0)))
                drained.append(DrainedWorker(worker: info, reason: reason))
                reporter.workerDrained(info, reason: reason)
            case .lookAgain(let instance, let seconds):
                reporter.added(1, toStage: graph.job.stages[graph.stage(of: instance)].name)
                reporter.watching(graph.name(of: instance), newItems: newlyListed[instance] ?? 0, nextLookIn: seconds)
            case .watchEnded(let instance):
                reporter.watching(graph.name(of: instance), newItems: newlyListed.removeValue(forKey: instance) ?? 0, nextLookIn: nil)
            case .holdStarted(let stage, let typicalSeconds, let secondsLeft):
                reporter.holding(stage: graph.job.stages[stage].name, typicalSeconds: typicalSeconds, secondsLeft: secondsLeft)
            case .finish:
                finished = true
            }
        }
        try outgoing.sendAll(over: transport)
        if !immediate.isEmpty { finished = try perform(try handle(immediate)) || finished }
        return finished
    }

    /// What a generator's success journals of its list: the whole list, or,
    /// for a watch's look, what it added and removed (nothing when the list
    /// stayed the same and the watch goes on): a streaming session's journal
    /// must not grow by its whole list every look.
    func itemRecords(_ items: [String], of instance: InstanceID, name: String, attempt: Int) -> [JournalRecord] {
        let goesOn = scheduler.watchGoesOn(after: instance)
        guard scheduler.isLook(instance) else {
            return [.itemsListed(instance: name, attempt: attempt, items: items, time: epochSeconds(), watching: goesOn)]
        }
        let before = graph.listedItems(of: instance)
        let known = Set(before), now = Set(items)
        let added = items.filter { !known.contains($0) }, removed = before.filter { !now.contains($0) }
        if added.isEmpty && removed.isEmpty && goesOn { return [] }
        return [.itemsChanged(instance: name, attempt: attempt, added: added, removed: removed, time: epochSeconds(), watching: goesOn)]
    }

    /// The instance's attempt number over every run: earlier runs' attempts, then this run's.
    func attemptNumber(of instance: InstanceID) -> Int {
        // By the instance's place in the graph: no name is built and hashed per call.
        (plan.recorded.read(instance) { $0.attempts } ?? (earlierAttempts.isEmpty ? 0 : earlierAttempts[instance] ?? 0))
            + ask { $0.attempt(of: instance) }
    }

    /// Attempt `number` (else the current one) of `instance` on `worker`,
    /// for the journal; `logs` is its folder, recorded with the end of an
    /// attempt that did not succeed.
    func attempt(_ instance: InstanceID, name: String? = nil, on worker: WorkerID, number: Int? = nil,
                 logs: String? = nil) -> JournalRecord.Attempt {
        JournalRecord.Attempt(
            instance: name ?? graph.name(of: instance), attempt: number ?? attemptNumber(of: instance), rank: worker.rawValue,
            host: workers[worker]?.host ?? "?", time: epochSeconds(), logs: logs.map(factory.display))
    }

    func record(_ records: [JournalRecord], durable: Bool) throws {
        try journal?.append(records, durable: durable)
    }
}

