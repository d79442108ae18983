public import CohortCore

/// Drives a `Scheduler` with simulated workers and a manual clock: each
/// started instance ends after its scripted duration. A discrete-event
/// simulation, so policies can be compared by makespan in milliseconds.
public struct SchedulerSimulation {
    public struct Execution: Sendable {
        public var instance: InstanceID
        public var worker: WorkerID
        public var start: Double
        public var end: Double
    }

    public private(set) var executions: [Execution] = []
    public private(set) var makespan = 0.0
    public let graph: InstanceGraph

    /// Runs `job` to the end on `workers`; `duration` gives each instance's run time.
    /// `fails`: which instances fail (once, no retries unless the stage has them).
    public init(
        job: Job, workers: [(WorkerID, WorkerProfile)], policy: SchedulingPolicy,
        fails: (InstanceID, InstanceGraph) -> Bool = { _, _ in false },
        duration: (InstanceID, InstanceGraph) -> Double
    ) throws {
        graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph, policy: policy)
        var now = 0.0
        var running: [(end: Double, instance: InstanceID, worker: WorkerID, start: Double)] = []
        func apply(_ actions: [SchedulerAction]) {
            for case .start(let instance, let worker) in actions {
                running.append((now + duration(instance, graph), instance, worker, now))
            }
        }
        for (id, profile) in workers { apply(scheduler.workerJoined(id, profile: profile)) }
        while let next = running.indices.min(by: { (running[$0].end, running[$0].instance) < (running[$1].end, running[$1].instance) }) {
            let event = running.remove(at: next)
            now = event.end
            executions.append(Execution(instance: event.instance, worker: event.worker, start: event.start, end: event.end))
            apply(scheduler.instanceFinished(event.instance, outcome: fails(event.instance, graph) ? .exited(1) : .succeeded))
        }
        precondition(scheduler.isFinished, "simulation stalled with work left")
        makespan = now
    }

    /// Executions of the stage called `name`.
    public func executions(ofStage name: String) -> [Execution] {
        executions.filter { graph.job.stages[graph.stage(of: $0.instance)].name == name }
    }
}

extension Array where Element == (WorkerID, WorkerProfile) {
    /// `count` workers with `cpus` each, numbered from 1.
    public static func workers(_ count: Int, cpus: Int) -> Self {
        (1...count).map { (WorkerID($0), WorkerProfile(capacity: Capacity(cpus: cpus, memory: 1 << 40))) }
    }
}
