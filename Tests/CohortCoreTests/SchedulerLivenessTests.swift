import CohortCore
import CohortTesting
import Testing

/// The scheduler cannot hang (issue 9): whatever the study, the locks, the
/// labels, the capacities, the failures and the stops, every run ends, and
/// while ready work exists that an idle worker could take, something runs.
@Suite struct SchedulerLivenessTests {
    /// `x` writes `a` and reads `b`, `y` the other way round: each used to
    /// wait for the other's reservation for ever.
    @Test func crossedLocksAreServedOneAfterTheOther() throws {
        var job = JobFixtures.job([("x", .subject, []), ("y", .subject, [])], subjects: JobFixtures.subjects(2, sessions: 0))
        job.stages[0].locks = [StageLock(name: "a"), StageLock(name: "b", shared: true)]
        job.stages[1].locks = [StageLock(name: "b"), StageLock(name: "a", shared: true)]
        let run = try LivenessRun(job: job, workers: [WorkerProfile(capacity: Capacity(cpus: 2, memory: 1 << 30))], seed: 1,
                                  failureRate: 0, stopRate: 0)
        #expect(run.violations == [])
        #expect(run.succeeded == 4)
    }

    /// Workers able to run a stage only when drained or missing: the run
    /// ends at once and names the stage, instead of waiting for ever.
    @Test func workThatNoWorkerCanStartEndsTheRunNamingIt() throws {
        var job = JobFixtures.job([("cpu", .subject, []), ("gpu", .subject, [0])], subjects: JobFixtures.subjects(2, sessions: 0))
        job.stages[1].on = "gpu"
        let run = try LivenessRun(job: job, workers: [WorkerProfile(capacity: Capacity(cpus: 2, memory: 1 << 30))], seed: 1,
                                  failureRate: 0, stopRate: 0)
        #expect(run.violations == [])
        #expect(run.succeeded == 2)
        #expect(run.stuck.map(\.stage) == ["gpu"])
    }

    /// Random studies over the three domains with locks, labels,
    /// capacities, failures, retries, holds and stops.
    @Test(arguments: 0..<8)
    func randomStudiesAlwaysEndAndNeverBreakTheRules(_ batch: Int) throws {
        for seed in UInt64(batch * 100)..<UInt64(batch * 100 + 100) {
            var random = SplitMix(seed: seed)
            let (job, workers) = Self.randomStudy(&random)
            let broken: Set<WorkerID> = random.chance(0.3) ? [WorkerID(1)] : []
            let run = try LivenessRun(job: job, workers: workers, seed: seed,
                                      failureRate: random.chance(0.5) ? 0.2 : 0, stopRate: random.chance(0.2) ? 0.05 : 0,
                                      holdRate: random.chance(0.2) ? 0.05 : 0, broken: broken)
            #expect(run.violations == [], "seed \(seed): \(job.stages.map { "\($0.name) \($0.domain) after \($0.dependencies) locks \($0.locks.map { "\($0.name)\($0.shared ? "(r)" : "")" }) on \($0.on ?? "-") cpus \($0.cpus)" })")
        }
    }

    static func randomStudy(_ random: inout SplitMix) -> (Job, [WorkerProfile]) {
        let domains: [Domain] = [.study, .subject, .session]
        let stageCount = random.int(1...6)
        var stages: [(String, Domain, [Int])] = []
        for index in 0..<stageCount {
            let dependencies = (0..<index).filter { _ in random.chance(0.4) }
            stages.append(("s\(index)", domains[random.int(0...2)], dependencies))
        }
        let subjects = (1...random.int(1...4)).map { index in
            Subject(name: "sub-\(index)", sessions: (0..<random.int(0...2)).map { "ses-\($0 + 1)" })
        }
        var job = JobFixtures.job(stages, subjects: subjects)
        for index in job.stages.indices {
            job.stages[index].cpus = random.int(1...3)
            job.stages[index].memory = Int64(random.int(0...2)) << 30
            job.stages[index].retries = random.int(0...2)
            job.stages[index].priority = random.chance(0.2) ? random.int(-5...5) : 0
            job.stages[index].on = random.chance(0.15) ? "gpu" : nil
            job.stages[index].nodes = random.chance(0.2) ? random.int(2...3) : 1
            for lock in ["a", "b", "c"] where random.chance(0.3) {
                job.stages[index].locks.append(StageLock(name: lock, shared: random.chance(0.5)))
            }
        }
        let workers = (0..<random.int(1...4)).map { _ in
            WorkerProfile(capacity: Capacity(cpus: random.int(1...4), memory: Int64(random.int(1...4)) << 30),
                          labels: random.chance(0.3) ? ["gpu"] : [], host: "h\(random.int(1...3))")
        }
        return (job, workers)
    }
}

/// A run of the scheduler with simulated workers, random durations,
/// failures, holds and a stop, checked after every event.
struct LivenessRun {
    var violations: [String] = []
    var succeeded = 0
    var failed = 0
    var stuck: [UnplaceableStage] = []
    var drained: [WorkerID] = []
    /// Attempts started on each worker.
    var starts: [WorkerID: Int] = [:]
    /// Each retry's worker, with the workers the instance had failed on before.
    var retries: [(worker: WorkerID, failedOn: Set<WorkerID>)] = []

    /// `broken` workers fail every attempt, quickly (a stale mount).
    /// `failingStages` fail on every worker (a broken module), and so do
    /// the instances of `failingSubjects` (bad data).
    init(job: Job, workers: [WorkerProfile], seed: UInt64, failureRate: Double, stopRate: Double, holdRate: Double = 0,
         broken: Set<WorkerID> = [], failingStages: Set<Int> = [], failingSubjects: Set<Int> = []) throws {
        let graph = try InstanceGraph(job: job)
        var random = SplitMix(seed: seed &+ 0x5eed)
        var scheduler = Scheduler(graph: graph, policy: random.chance(0.5) ? .criticalPath() : .firstComeFirstServed)
        var running: [InstanceID: (worker: WorkerID, end: Double)] = [:]
        var now = 0.0
        var stopped = false
        var held: Set<Int> = []
        var failedOn: [InstanceID: Set<WorkerID>] = [:]
        /// The workers each running instance holds (more than one: a multi-node stage).
        var holders: [InstanceID: [WorkerID]] = [:]
        let profiles = Dictionary(uniqueKeysWithValues: workers.enumerated().map { (WorkerID($0.offset + 1), $0.element) })
        let stage = { (instance: InstanceID) in graph.job.stages[graph.stage(of: instance)] }

        func apply(_ actions: [SchedulerAction]) {
            for case .drain(let worker, _) in actions {
                if drained.contains(worker) { violations.append("\(worker) drained twice") }
                drained.append(worker)
            }
            for case .start(let instance, let worker) in actions {
                if drained.contains(worker) { violations.append("\(graph.name(of: instance)) started on drained \(worker)") }
                starts[worker, default: 0] += 1
                if let failed = failedOn[instance] { retries.append((worker, failed)) }
                let definition = stage(instance)
                for range in graph.dependencies(of: instance) {
                    for dependency in range where ![.succeeded, .doneEarlier].contains(scheduler.state(of: InstanceID(dependency))) {
                        violations.append("\(graph.name(of: instance)) started before \(graph.name(of: InstanceID(dependency)))")
                    }
                }
                if held.contains(graph.stage(of: instance)) { violations.append("\(graph.name(of: instance)) started while held") }
                if stopped { violations.append("\(graph.name(of: instance)) started after the stop") }
                guard let profile = profiles[worker], profile.takes(definition) else {
                    violations.append("\(graph.name(of: instance)) started on \(worker), which does not take it")
                    continue
                }
                // A broken node fails at once, long before any other attempt ends.
                running[instance] = (worker, now + (broken.contains(worker) ? 0.01 : Double(random.int(1...5))))
                let gang = scheduler.gang(of: instance)
                holders[instance] = gang
                if gang.first != worker || gang.count != definition.nodes
                    || Set(gang.map { profiles[$0]?.host ?? "?" }).count != gang.count {
                    violations.append("\(graph.name(of: instance)) needs \(definition.nodes) hosts, holds \(gang) starting on \(worker)")
                }
                for member in gang {
                    guard let memberProfile = profiles[member] else { continue }
                    if drained.contains(member) { violations.append("\(graph.name(of: instance)) holds drained \(member)") }
                    let mine = running.keys.filter { holders[$0]?.contains(member) == true }.map { stage($0).demand }
                    let used = mine.reduce(Capacity(cpus: 0, memory: 0), +)
                    if !memberProfile.capacity.fits(used) { violations.append("\(member) holds \(used), more than \(memberProfile.capacity)") }
                }
                for lock in Set(running.keys.flatMap { stage($0).locks.map(\.name) }) {
                    let holders = running.keys.flatMap { stage($0).locks.filter { $0.name == lock } }
                    let writers = holders.filter { !$0.shared }.count
                    if writers > 1 || (writers == 1 && holders.count > 1) {
                        violations.append("lock \(lock) held by \(writers) writers and \(holders.count - writers) readers")
                    }
                }
            }
        }

        for id in profiles.keys.sorted() { apply(scheduler.workerJoined(id, profile: profiles[id]!)) }
        apply(scheduler.allWorkersJoined())
        var events = 0
        while !scheduler.isFinished {
            events += 1
            guard events < 10 * graph.instanceCount + 100 else {
                violations.append("no end after \(events) events")
                break
            }
            checkSomethingRuns(scheduler, graph: graph, profiles: profiles, running: running, held: held, stopped: stopped)
            if !stopped && random.chance(stopRate) {
                stopped = true
                apply(scheduler.stopRequested())
                continue
            }
            if random.chance(holdRate) {
                held = Set(graph.job.stages.indices.filter { _ in random.chance(0.3) })
                apply(scheduler.hold(stages: held))
                continue
            }
            guard let next = running.min(by: { ($0.value.end, $0.key) < ($1.value.end, $1.key) }) else {
                violations.append("nothing running, not finished, no event can come")
                break
            }
            running[next.key] = nil
            holders[next.key] = nil
            now = next.value.end
            let outcome: AttemptOutcome = stopped ? .interrupted
                : broken.contains(next.value.worker) || failingStages.contains(graph.stage(of: next.key))
                    || graph.coordinates(of: next.key).subject.map(failingSubjects.contains) == true || random.chance(failureRate)
                    ? .exited(1) : .succeeded
            if outcome == .succeeded { succeeded += 1 }
            if outcome.isFailure { failedOn[next.key, default: []].insert(next.value.worker) }
            apply(scheduler.instanceFinished(next.key, outcome: outcome, wallSeconds: 1))  // attempts last 1-5 s: quick
        }
        if !running.isEmpty { violations.append("finished with \(running.count) running") }
        stuck = scheduler.stuck
        failed = (0..<graph.instanceCount).filter { scheduler.state(of: InstanceID($0)) == .failed }.count
        if drained.count == profiles.count && profiles.count > 0 { violations.append("every worker drained") }
        for stage in stuck where stage.unexplained { violations.append("\(stage.stage) stuck without a reason") }
        // Every instance ends done, failed, skipped, interrupted, or not run with a reason.
        let stuckStages = Set(stuck.filter { !$0.unexplained }.map(\.stage))
        for index in 0..<graph.instanceCount {
            let instance = InstanceID(index)
            switch scheduler.state(of: instance) {
            case .succeeded, .failed, .skipped, .interrupted, .doneEarlier, .unselected, .dropped:
                break
            case .ready:
                let reason = stopped || held.contains(graph.stage(of: instance)) || stuckStages.contains(stage(instance).name)
                if !reason { violations.append("\(graph.name(of: instance)) left ready with no reason") }
            case .waiting:
                let blocked = graph.dependencies(of: instance).flatMap { $0 }.contains {
                    scheduler.state(of: InstanceID($0)) != .succeeded
                }
                if !blocked { violations.append("\(graph.name(of: instance)) left waiting with every dependency done") }
            case .running:
                violations.append("\(graph.name(of: instance)) still running")
            }
        }
    }

    /// Ready work an idle worker could take means something runs.
    private mutating func checkSomethingRuns(_ scheduler: Scheduler, graph: InstanceGraph, profiles: [WorkerID: WorkerProfile],
                                             running: [InstanceID: (worker: WorkerID, end: Double)], held: Set<Int>, stopped: Bool) {
        guard running.isEmpty, !stopped else { return }
        for index in 0..<graph.instanceCount where scheduler.state(of: InstanceID(index)) == .ready {
            let stage = graph.stage(of: InstanceID(index))
            let definition = graph.job.stages[stage]
            let hosts = Set(profiles.values.filter { $0.takes(definition) && $0.capacity.fits(definition.demand) }.map(\.host))
            if !held.contains(stage), hosts.count >= (definition.nodes > 1 ? definition.nodes : 1) {
                violations.append("\(graph.name(of: InstanceID(index))) is ready and fits an idle worker, but nothing runs")
                return
            }
        }
    }
}
