public import CohortMPI
import CohortCore
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A worker rank: says hello, runs what rank 0 sends, reports each end,
/// and leaves when told to stop and its modules are done.
public struct WorkerLoop {
    let communicator: Communicator
    /// Reports leave without waiting for rank 0 to take them.
    let outbox: Outbox
    let runner: ModuleRunner
    let logger: Logger

    public init(communicator: Communicator, runner: ModuleRunner, logger: Logger = .silent) {
        self.communicator = communicator
        self.outbox = Outbox(communicator: communicator)
        self.runner = runner
        self.logger = logger
    }

    public func run() throws {
        let offer = Machine.offer
        var hello = WorkerHello(host: Machine.hostName, pid: Int(getpid()),
                                machineCores: offer.cores, machineMemory: offer.memory)
        hello.gpus = Machine.gpus
        try outbox.send(WorkerMessage.hello(hello).encoded(), to: .scheduler)
        /// Reports of this loop pass, sent together at its end (rank 0 takes
        /// a batch of reports as one journal write and one fsync).
        var reports: [TaskReport] = []
        // What is still on its way to rank 0 leaves before this rank does,
        // also when the loop throws: a report lost here is an attempt the
        // journal never sees end.
        defer {
            try? sendReports(&reports)
            _ = try? outbox.flush(timeout: 5)
        }
        var stopping = false
        var terminating = false
        /// A second signal: modules are killed without their grace period.
        var hurried = false
        var backoff = IdleBackoff()
        /// Names of the instances running here, for diagnostics.
        var names: [InstanceID: String] = [:]
        var followOns = FollowOnQueue()
        /// Every stage's recipe, sent by rank 0 before any assignment.
        var recipes: [StageRecipe] = []
        /// The cpus rank 0 counts for this worker.
        var cpus = 0
        StopSignals.install()
        while true {
            var progressed = false
            // A signal to this rank (mpirun forwards them): stop its modules,
            // report them, and wait for rank 0 to say stop.
            if !terminating, let signal = StopSignals.pending {
                // Alone (its node is going down) this rank drains; in a whole
                // job's stop, rank 0 is stopping anyway and ignores this.
                terminating = true
                logger.notice("received \(StopSignals.name(signal)): stopping this rank's modules and leaving the run")
                try outbox.send(WorkerMessage.draining("received \(StopSignals.name(signal))").encoded(), to: .scheduler)
                runner.terminateAll()
                for order in followOns.giveAllBack() { queueNotStarted(order, reports: &reports) }
            }
            if !hurried, StopSignals.count > 1 {
                hurried = true
                runner.killAllNow()
            }
            while let envelope = try communicator.pendingMessage() {
                progressed = true
                switch try SchedulerMessage(decoding: try communicator.receive(envelope)) {
                case .recipes(let sent, let workerCpus):
                    recipes = sent
                    cpus = workerCpus
                case .run(let assignments):
                    for assignment in assignments {
                        guard recipes.indices.contains(assignment.stage) else {
                            throw WireFormatError(reason: "an order for stage \(assignment.stage) of \(recipes.count) this rank was sent")
                        }
                        let order = recipes[assignment.stage].order(for: assignment)
                        if terminating {
                            // A stopping rank starts nothing new, follow-on or not.
                            queueNotStarted(order, reports: &reports)
                        } else if !followOns.hold(order, aheadIsRunning: { names[$0] != nil }) {
                            start(order, names: &names, reports: &reports)
                        }
                    }
                case .stop:
                    logger.debug("no more work: leaving once its running modules end", metadata: ["running": "\(runner.runningCount)"])
                    stopping = true
                case .recall(let instance):
                    // Not started yet: given back. Started: its report will come.
                    if let order = followOns.recall(instance) { queueNotStarted(order, reports: &reports) }
                case .terminate:
                    terminating = true
                    runner.terminateAll()
                    for order in followOns.giveAllBack() { queueNotStarted(order, reports: &reports) }
                }
            }
            for finished in runner.reapFinished() {
                progressed = true
                // A follow-on whose start failed at once is reported after the
                // end ahead of it, when rank 0 counts it as started.
                var failedStarts: [TaskReport] = []
                for step in followOns.ended(finished) {
                    switch step {
                    case .start(let order):
                        if let failed = start(order, names: &names, reports: &reports, reportingLater: true) { failedStarts.append(failed) }
                    case .giveBack(let order):
                        queueNotStarted(order, reports: &reports)
                    case .report(let report):
                        queue(report, name: names.removeValue(forKey: report.instance), reports: &reports)
                    }
                }
                for failed in failedStarts { queue(failed, name: names.removeValue(forKey: failed.instance), reports: &reports) }
            }
            try sendReports(&reports)
            try outbox.release()
            if stopping && runner.runningCount == 0 && followOns.isEmpty { return }
            if progressed {
                backoff.reset()
            } else {
                // Nothing urgent can come from rank 0 while a module runs and either
                // its successor is held here or the modules fill every cpu (an order
                // then is a follow-on): wait for a module's end, up to 2 ms.
                let full = runner.runningCount > 0 && (!followOns.isEmpty || runner.cpusInUse >= cpus)
                backoff.pause(waitingOn: runner.reportDescriptor, patience: full ? IdleBackoff.cap : nil)
            }
        }
    }

    /// Starts `order`; the report of a start that failed is queued, or
    /// returned when `reportingLater`.
    @discardableResult
    private func start(_ order: TaskOrder, names: inout [InstanceID: String], reports: inout [TaskReport],
                       reportingLater: Bool = false) -> TaskReport? {
        logger.debug("starting \(order.name)", metadata: ["attempt": "\(order.attemptFolder.split(separator: "/").last ?? "")"])
        names[order.instance] = order.name
        guard let failed = runner.start(order) else { return nil }
        if reportingLater { return failed }
        queue(failed, name: names.removeValue(forKey: order.instance), reports: &reports)
        return nil
    }

    /// Reports an order this rank did not start (see `FollowOnQueue.notStarted`).
    private func queueNotStarted(_ order: TaskOrder, reports: inout [TaskReport]) {
        queue(FollowOnQueue.notStarted(order), name: order.name, reports: &reports)
    }

    /// Adds `report` to what the next `sendReports` sends, in order.
    private func queue(_ report: TaskReport, name: String?, reports: inout [TaskReport]) {
        logger.debug("\(name ?? "instance \(report.instance.rawValue)") ended: \(report.outcome.text)",
                     metadata: ["seconds": "\(Double(Int(report.wallSeconds * 100)) / 100)"])
        reports.append(report)
    }

    /// The queued reports, as one message.
    private func sendReports(_ reports: inout [TaskReport]) throws {
        guard !reports.isEmpty else { return }
        try outbox.send(WorkerMessage.finished(reports).encoded(), to: .scheduler)
        reports.removeAll(keepingCapacity: true)
    }
}
