public import CohortCore
public import CohortRun

/// A clock moved by hand.
public final class ManualClock: @unchecked Sendable {
    public var now: Double

    public init(now: Double = 1000) { self.now = now }

    public func read() -> Double { now }
}

/// Worker ranks simulated in memory: a `SchedulerTransport` whose workers
/// "run" each order for a scripted duration of manual-clock time.
///
/// `poll()` delivers the earliest pending completion and moves the clock to
/// it, so a whole run is a deterministic discrete-event simulation.
public final class FakeCluster: SchedulerTransport, @unchecked Sendable {
    public struct Machine {
        public var host: String
        public var cores: Int
        public var memory: Int64
        public init(host: String, cores: Int, memory: Int64 = 64 << 30) {
            self.host = host
            self.cores = cores
            self.memory = memory
        }
    }

    /// One order as a worker received it.
    public struct Execution {
        public var rank: Int
        public var order: TaskOrder
        public var start: Double
        public var end: Double
        public var outcome: AttemptOutcome
    }

    public let clock: ManualClock
    public let workerRanks: [Int]
    private let machines: [Int: Machine]
    private let duration: (TaskOrder) -> Double
    private let outcome: (TaskOrder) -> AttemptOutcome
    private var inbox: [(rank: Int, message: WorkerMessage, at: Double)] = []
    public private(set) var executions: [Execution] = []
    /// Per rank: the stage recipes rank 0 sent it.
    private var recipes: [Int: [StageRecipe]] = [:]
    public private(set) var stopped: Set<Int> = []
    public private(set) var terminated: Set<Int> = []

    public init(
        clock: ManualClock, machines: [Machine],
        duration: @escaping (TaskOrder) -> Double = { _ in 1 },
        outcome: @escaping (TaskOrder) -> AttemptOutcome = { _ in .succeeded }
    ) {
        self.clock = clock
        self.workerRanks = Array(1...machines.count)
        var byRank: [Int: Machine] = [:]
        for (index, machine) in machines.enumerated() { byRank[index + 1] = machine }
        self.machines = byRank
        self.duration = duration
        self.outcome = outcome
        for rank in workerRanks {
            let machine = byRank[rank]!
            inbox.append((rank, .hello(WorkerHello(host: machine.host, pid: rank, machineCores: machine.cores,
                                                   machineMemory: machine.memory)), clock.now))
        }
    }

    public func send(_ message: SchedulerMessage, to rank: Int) throws {
        precondition(!stopped.contains(rank), "message to stopped rank \(rank)")
        switch message {
        case .stop:
            stopped.insert(rank)
        case .terminate:
            terminated.insert(rank)
        case .recall:
            break  // as if the worker had started it already: its report comes as usual
        case .recipes(let sent, _):
            recipes[rank] = sent
        case .run(let assignments):
            for assignment in assignments {
                // As a worker rank does: the whole order from the stage's recipe, sent before.
                guard let recipe = recipes[rank]?[assignment.stage] else {
                    preconditionFailure("an order for rank \(rank) before its recipes")
                }
                let order = recipe.order(for: assignment)
                // A follow-on starts when the one ahead of it on this rank ends.
                let ahead = order.after.flatMap { ahead in executions.last { $0.rank == rank && $0.order.instance == ahead } }
                if let ahead, ahead.end > clock.now, !ahead.outcome.succeeded,
                   let aheadReport = inbox.firstIndex(where: { $0.rank == rank && $0.message.reports(ahead.order.instance) }) {
                    // As a worker does (`FollowOnQueue`): behind a failure it is
                    // given back unstarted, said before the failure.
                    inbox.insert((rank, .finished([FollowOnQueue.notStarted(order)]), ahead.end), at: aheadReport)
                    continue
                }
                let start = max(clock.now, ahead?.end ?? clock.now)
                let end = start + duration(order)
                let outcome = outcome(order)
                executions.append(Execution(rank: rank, order: order, start: start, end: end, outcome: outcome))
                let report = TaskReport(instance: order.instance, outcome: outcome, wallSeconds: end - start,
                                        peakMemoryKiB: 1024, logTail: outcome.succeeded ? "" : "failed on purpose")
                inbox.append((rank, .finished([report]), end))
            }
        }
    }

    public func poll() throws -> (rank: Int, message: WorkerMessage)? {
        guard let next = inbox.indices.min(by: { inbox[$0].at < inbox[$1].at }) else { return nil }
        let event = inbox.remove(at: next)
        clock.now = max(clock.now, event.at)
        return (event.rank, event.message)
    }

    /// Largest number of cpus in use at once on `rank`, by the orders' cpus.
    public func peakCPUs(rank: Int) -> Int {
        let mine = executions.filter { $0.rank == rank }
        return mine.map { probe in
            mine.filter { $0.start <= probe.start && probe.start < $0.end }.reduce(0) { $0 + $1.order.cpus }
        }.max() ?? 0
    }
}

/// A `RunReporter` that keeps what it is told.
public final class RecordingReporter: RunReporter, @unchecked Sendable {
    public private(set) var finished: [String] = []
    public private(set) var skipped: [String] = []
    public private(set) var summary: RunSummary?
    public private(set) var workers: [WorkerInfo] = []
    public private(set) var retries: [String] = []
    /// Why attempts ended without a result, in order.
    public private(set) var endedEarly: [EarlyEnd] = []
    public private(set) var drains: [String] = []
    public private(set) var stopSignals: [String] = []
    public private(set) var held: [String] = []
    /// Watched generators' lines: name, new items, seconds to the next look (nil: the watch ended).
    public private(set) var watched: [(name: String, newItems: Int, nextLookIn: Double?)] = []
    /// Instances added during the run, per stage.
    public private(set) var added: [String: Int] = [:]

    public init() {}

    public func runStarted(study: String, instances: Int, listsItems: Bool, workers: [WorkerInfo]) { self.workers = workers }
    public func instanceStarted(_ name: String, on worker: WorkerInfo) {}
    public func instanceFinished(_ name: String, report: TaskReport, on worker: WorkerInfo, endedEarly: EarlyEnd?, cause: String?,
                                 finished: Int, total: Int) {
        self.finished.append(name)
        if let endedEarly { self.endedEarly.append(endedEarly) }
    }
    public func instanceSkipped(_ name: String, because cause: String) { skipped.append(name) }
    public func workerDied(_ worker: WorkerInfo) { drains.append("\(worker.id) died") }
    public func workerDrained(_ worker: WorkerInfo, reason: String) { drains.append("\(worker.id): \(reason)") }
    public func instanceRetrying(_ name: String, retry: Int, of retries: Int, attempt: Int) { self.retries.append("\(name)#\(attempt)") }
    public func stopping(signal: String) { stopSignals.append(signal) }
    public func holding(stage: String, typicalSeconds: Double, secondsLeft: Double) { held.append(stage) }
    public func watching(_ name: String, newItems: Int, nextLookIn: Double?) { watched.append((name, newItems, nextLookIn)) }
    public func added(_ count: Int, toStage stage: String) { added[stage, default: 0] += count }
    public func runFinished(_ summary: RunSummary) { self.summary = summary }
    public private(set) var problems: [String] = []
    public func problem(_ text: String) { problems.append(text) }
    public func note(_ text: String) { problems.append(text) }
    public func tick() {}
}

extension WorkerMessage {
    /// Whether this is the report of `instance`'s end.
    func reports(_ instance: InstanceID) -> Bool {
        if case .finished(let reports) = self { reports.contains { $0.instance == instance } } else { false }
    }
}
