public import CohortCore
public import CohortMPI

/// What sizes workers: `--slots`/`--memory`, else the machine shared among
/// the worker ranks on it.
public struct CapacityPolicy: Sendable {
    public var slots: Int?
    public var memory: Int64?

    public init(slots: Int? = nil, memory: Int64? = nil) {
        self.slots = slots
        self.memory = memory
    }

    /// Capacity of each worker given every worker's hello: cores and memory
    /// of a host divided by the worker ranks on it, at least one cpu each.
    public func capacities(for hellos: [(rank: Int, hello: WorkerHello)]) -> [Int: Capacity] {
        var perHost: [String: Int] = [:]
        for (_, hello) in hellos { perHost[hello.host, default: 0] += 1 }
        var result: [Int: Capacity] = [:]
        for (rank, hello) in hellos {
            let sharing = Int64(perHost[hello.host] ?? 1)
            result[rank] = Capacity(
                cpus: slots ?? max(1, Int(hello.machineCores / sharing)),
                memory: memory ?? hello.machineMemory / sharing)
        }
        return result
    }
}

/// Why a run could not start at all (exit code 2: nothing ran).
public struct RunRefused: Error, CustomStringConvertible {
    public var description: String
}

/// Rank 0: gathers workers, feeds the scheduler the events, carries out its
/// actions. With no worker ranks it runs instances itself, on `localRunner`.
public final class Coordinator {
    /// The pseudo-worker for instances rank 0 runs itself.
    public static let localWorker = WorkerID(0)

    let factory: TaskFactory
    let transport: (any SchedulerTransport)?
    let localRunner: ModuleRunner?
    let policy: CapacityPolicy
    let reporter: any RunReporter
    let clock: () -> Double

    private var scheduler: Scheduler
    private var workers: [WorkerID: WorkerInfo] = [:]
    private var failures: [FailureRecord] = []
    private var finishedCount = 0
    private var startTime = 0.0

    public init(
        factory: TaskFactory, transport: (any SchedulerTransport)?, localRunner: ModuleRunner?,
        policy: CapacityPolicy, reporter: any RunReporter, clock: @escaping () -> Double = monotonicSeconds
    ) {
        self.factory = factory
        self.transport = transport
        self.localRunner = localRunner
        self.policy = policy
        self.reporter = reporter
        self.clock = clock
        self.scheduler = Scheduler(graph: factory.graph)
    }

    /// Runs the job to the end and returns its summary.
    public func run() throws -> RunSummary {
        startTime = clock()
        let joined = try gatherWorkers()
        let problems = Scheduler.unplaceableStages(of: factory.graph.job, on: joined.map(\.capacity))
        if !problems.isEmpty {
            try stopAllWorkers()
            throw RunRefused(description: problems.map(\.description).joined(separator: "\n"))
        }
        reporter.runStarted(study: factory.graph.job.study, instances: factory.graph.instanceCount, workers: joined)
        var pending: [SchedulerAction] = []
        for worker in joined {
            workers[worker.id] = worker
            pending += scheduler.workerJoined(worker.id, capacity: worker.capacity)
        }
        var backoff = IdleBackoff()
        var done = try perform(pending)
        while !done {
            var actions: [SchedulerAction] = []
            while let (rank, message) = try transport?.poll() {
                guard case .finished(let report) = message else {
                    throw RunRefused(description: "rank \(rank) said hello twice")
                }
                actions += handle(report, from: WorkerID(rank))
            }
            for report in localRunner?.reapFinished() ?? [] {
                actions += handle(report, from: Self.localWorker)
            }
            if actions.isEmpty {
                backoff.pause()
            } else {
                backoff.reset()
                done = try perform(actions)
            }
        }
        return RunSummary(
            study: factory.graph.job.study, stageNames: factory.graph.job.stages.map(\.name),
            tallies: scheduler.tallies, failures: failures, elapsedSeconds: clock() - startTime,
            workers: joined.sorted { $0.id < $1.id }, stoppedEarly: false)
    }

    /// Waits for every worker rank's hello; with none, rank 0 is the worker.
    private func gatherWorkers() throws -> [WorkerInfo] {
        guard let transport, !transport.workerRanks.isEmpty else {
            let capacity = policy.capacities(for: [(0, WorkerHello(
                host: Machine.hostName, pid: 0, machineCores: Int64(Machine.cores), machineMemory: Machine.memory))])[0]!
            return [WorkerInfo(id: Self.localWorker, host: Machine.hostName, capacity: capacity)]
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
        let capacities = policy.capacities(for: hellos.map { ($0.key, $0.value) })
        return hellos.keys.sorted().map { WorkerInfo(id: WorkerID($0), host: hellos[$0]!.host, capacity: capacities[$0]!) }
    }

    private func handle(_ report: TaskReport, from worker: WorkerID) -> [SchedulerAction] {
        guard let index = Int32(exactly: report.instance), index >= 0, Int(index) < factory.graph.instanceCount,
              scheduler.state(of: InstanceID(rawValue: index)) == .running
        else { return [] }  // a report for nothing we sent: ignore rather than corrupt state
        let instance = InstanceID(rawValue: index)
        let name = factory.graph.name(of: instance)
        let info = workers[worker] ?? WorkerInfo(id: worker, host: "?", capacity: Capacity(cpus: 0, memory: 0))
        finishedCount += 1
        if !report.outcome.succeeded {
            failures.append(FailureRecord(
                name: name, outcome: report.outcome, worker: info, logFolder: factory.instanceFolder(of: instance),
                logTail: report.logTail, wallSeconds: report.wallSeconds))
        }
        reporter.instanceFinished(name, report: report, on: info, finished: finishedCount, total: factory.graph.instanceCount)
        return scheduler.instanceFinished(instance, succeeded: report.outcome.succeeded)
    }

    /// Carries out actions; true once the scheduler says the run is finished.
    private func perform(_ actions: [SchedulerAction]) throws -> Bool {
        var finished = false
        for action in actions {
            switch action {
            case .start(let instance, let worker):
                let order = factory.order(for: instance)
                if let info = workers[worker] { reporter.instanceStarted(order.name, on: info) }
                if worker == Self.localWorker, let localRunner {
                    if let report = localRunner.start(order) {
                        finished = try perform(handle(report, from: worker)) || finished
                    }
                } else {
                    try transport?.send(.run(order), to: worker.rawValue)
                }
            case .skip(let instance, let cause):
                finishedCount += 1
                reporter.instanceSkipped(factory.graph.name(of: instance), because: factory.graph.name(of: cause))
            case .stopWorker(let worker):
                if worker != Self.localWorker { try transport?.send(.stop, to: worker.rawValue) }
            case .finish:
                finished = true
            }
        }
        return finished
    }

    private func stopAllWorkers() throws {
        for rank in transport?.workerRanks ?? [] { try transport?.send(.stop, to: rank) }
    }
}
