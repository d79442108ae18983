// cohort-bench simulate [WORKERS...]: scheduling quality on a virtual clock.
//
// A study of SUBJECTS subjects x 3 sessions through a chain of four
// session stages, a subject stage and a study stage, with skewed durations
// (each stage's typical duration times a log-normal factor, sigma 0.6,
// from a seeded generator), run by the scheduler state machine on WORKERS
// one-cpu workers with no processes: each started instance ends after its
// drawn duration. Reports the makespan against the lower bound
// max(critical path, work / slots) (the scheduler knows stage medians, not
// each instance's draw), and the time to the first finished subject (every
// one of its session and subject instances done).
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

struct SimulatedStudy {
    let graph: InstanceGraph
    let durations: [Double]

    init(subjects: Int, seed: UInt64) {
        let sessions = ["ses-1", "ses-2", "ses-3"]
        let typical: [(String, Domain, Double)] = [
            ("convert", .session, 30), ("realign", .session, 90), ("slicetime", .session, 20), ("smooth", .session, 40),
            ("firstlevel", .subject, 240), ("group", .study, 600),
        ]
        let stages = typical.enumerated().map { index, stage in
            Stage(name: stage.0, domain: stage.1, command: "true", dependencies: index == 0 ? [] : [index - 1])
        }
        let job = Job(study: "sim", subjects: (0..<subjects).map { Subject(name: "s\($0)", sessions: sessions) }, stages: stages)
        guard let graph = try? InstanceGraph(job: job) else { fatalError("too many instances") }
        self.graph = graph
        var random = Random(seed: seed)
        durations = (0..<graph.instanceCount).map { index in
            typical[graph.stage(of: InstanceID(index))].2 * random.logNormal(sigma: 0.6)
        }
    }

    var stageMedians: [Double?] {
        graph.job.stages.indices.map { stage in
            let values = graph.instances(ofStage: stage).map { durations[$0] }.sorted()
            return values[values.count / 2]
        }
    }

    /// The longest chain of drawn durations through the instance graph.
    var criticalPath: Double {
        var finish = [Double](repeating: 0, count: graph.instanceCount)
        for stage in ResumePlanOrder.topological(graph.job.stages) {
            for index in graph.instances(ofStage: stage) {
                var start = 0.0
                for range in graph.dependencies(of: InstanceID(index)) {
                    for dependency in range { start = max(start, finish[dependency]) }
                }
                finish[index] = start + durations[index]
            }
        }
        return finish.max() ?? 0
    }
}

/// Stage order for the critical path (every stage after its dependencies).
enum ResumePlanOrder {
    static func topological(_ stages: [Stage]) -> [Int] {
        // Stages here are a chain in file order.
        Array(stages.indices)
    }
}

struct SimulationResult {
    var makespan: Double
    var firstSubjectDone: Double
}

/// Runs `study` on `workers` one-cpu workers under `policy`.
func simulate(_ study: SimulatedStudy, workers: Int, policy: SchedulingPolicy) -> SimulationResult {
    let graph = study.graph
    var scheduler = Scheduler(graph: graph, policy: policy)
    var events = EventHeap()
    var now = 0.0
    // Per subject: instances of its own (session and subject stages) still to finish.
    var leftPerSubject = [Int](repeating: 0, count: graph.job.subjects.count)
    for index in 0..<graph.instanceCount {
        if let subject = graph.coordinates(of: InstanceID(index)).subject { leftPerSubject[subject] += 1 }
    }
    var firstSubjectDone = Double.infinity
    func apply(_ actions: [SchedulerAction]) {
        for case .start(let instance, _) in actions { events.push(now + study.durations[instance.index], instance.index) }
    }
    for worker in 1...workers {
        apply(scheduler.workerJoined(WorkerID(worker), capacity: Capacity(cpus: 1, memory: 1 << 40)))
    }
    apply(scheduler.allWorkersJoined())
    while let (time, index) = events.pop() {
        now = time
        if let subject = graph.coordinates(of: InstanceID(index)).subject {
            leftPerSubject[subject] -= 1
            if leftPerSubject[subject] == 0 { firstSubjectDone = min(firstSubjectDone, now) }
        }
        apply(scheduler.instanceFinished(InstanceID(index), outcome: .succeeded))
    }
    precondition(scheduler.isFinished, "the simulated run stalled")
    return SimulationResult(makespan: now, firstSubjectDone: firstSubjectDone)
}

func schedulingQualityBenchmark(workerCounts: [Int]) {
    // Deep: a hundred subjects per worker, the work 15–20 times the
    // critical path (what is left at the end, the slowest of the last wave
    // of subject stages and the study stage, grows with the number of
    // workers: at 10,000 workers and forty subjects each it was 7 % of the
    // run); wide: two per worker, about as long as the critical path,
    // where that tail weighs most. 13 million instances at 10,000 workers:
    // about 30 s per policy, 0.5 GiB.
    for workers in workerCounts {
        for subjects in [max(10, workers * 100), workers * 2] {
            let study = SimulatedStudy(subjects: subjects, seed: 42)
            let work = study.durations.reduce(0, +)
            let bound = max(study.criticalPath, work / Double(workers))
            print("\n\(workers) workers, \(subjects) subjects (\(study.graph.instanceCount) instances): critical path \(format(study.criticalPath, 0)) s, work / slots \(format(work / Double(workers), 0)) s")
            for (name, policy) in [("critical path first", SchedulingPolicy.criticalPath(stageDurations: study.stageMedians)),
                                   ("subjects first", .subjectsFirst(stageDurations: study.stageMedians)),
                                   ("first come, first served", .firstComeFirstServed)] {
                let start = seconds()
                let result = simulate(study, workers: workers, policy: policy)
                let elapsed = seconds() - start
                print("TABLE|simulated, \(workers) workers, \(subjects) subjects, \(name)|makespan \(format(result.makespan / bound, 3)) x bound|first subject at \(format(100 * result.firstSubjectDone / result.makespan, 1)) % of the run")
                print("  \(name): makespan \(format(result.makespan, 0)) s = \(format(result.makespan / bound, 3)) x bound; first subject done at \(format(result.firstSubjectDone, 0)) s (\(format(100 * result.firstSubjectDone / result.makespan, 1)) % of the run); simulated in \(format(elapsed, 1)) s, \(Int(Double(study.graph.instanceCount) / elapsed)) events/s")
            }
        }
    }
}

/// A binary min-heap of (time, instance) events; ties by instance index.
struct EventHeap {
    private var items: [(Double, Int)] = []

    mutating func push(_ time: Double, _ index: Int) {
        items.append((time, index))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (Double, Int)? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count && items[left] < items[smallest] { smallest = left }
                if right < items.count && items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}

/// SplitMix64 with a log-normal draw.
struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(UInt64(1) << 53) }

    /// exp(sigma * N(0,1)), by Box-Muller.
    mutating func logNormal(sigma: Double) -> Double {
        let normal = (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
        return exp(sigma * normal)
    }
}
