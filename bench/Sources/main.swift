// cohort-bench: scale of the pure core, no MPI, no processes.
//
//   cohort-bench [SUBJECTS] [SESSIONS] [STAGES]     (default 100000 10 10)
//   cohort-bench resume [SUBJECTS]                  (default 100000: 10^6 instances; see ResumeBenchmark.swift)
//   cohort-bench study DIR [SUBJECTS]               (a finished 10^6-instance study on disk; see StudyOnDisk.swift)
//   cohort-bench simulate [WORKERS...]              (scheduling quality on a virtual clock; see SchedulingQuality.swift)
//
// Expands the instance graph for SUBJECTS x SESSIONS x STAGES, in two
// layouts (every stage per session; a chain per session ending per subject
// and per study), then drives the scheduler to the end with simulated
// workers. Times are reported as ratios against a baseline measured in the
// same run: writing and summing one Int32 per instance, the least any
// representation of the graph must do.
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

if CommandLine.arguments.dropFirst().first == "simulate" {
    let counts = CommandLine.arguments.dropFirst(2).compactMap { Int($0) }
    schedulingQualityBenchmark(workerCounts: counts.isEmpty ? [1_000, 10_000] : counts)
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "study", let folder = CommandLine.arguments.dropFirst(2).first {
    writeStudy(folder: folder, subjectCount: CommandLine.arguments.dropFirst(3).first.flatMap { Int($0) } ?? 32_258)
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "resume" {
    let subjects = CommandLine.arguments.dropFirst(2).first.flatMap { Int($0) } ?? 100_000
    resumeBenchmark(subjects: subjects / 10)
    resumeBenchmark(subjects: subjects)
    exit(0)
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let subjectCount = arguments.count > 0 ? arguments[0] : 100_000
let sessionCount = arguments.count > 1 ? arguments[1] : 10
let stageCount = max(3, arguments.count > 2 ? arguments[2] : 10)
let subjects = (0..<subjectCount).map { index in
    Subject(name: "sub-\(index)", sessions: (0..<sessionCount).map { "ses-\($0)" })
}

measure(layout: "all per session", mixed: false)
measure(layout: "per session, then per subject, then per study", mixed: true)

func measure(layout: String, mixed: Bool) {
    var stages: [Stage] = []
    for index in 0..<stageCount {
        let domain: Domain = !mixed ? .session : index == stageCount - 1 ? .study : index == stageCount - 2 ? .subject : .session
        stages.append(Stage(name: "stage\(index)", domain: domain, command: "true", dependencies: index == 0 ? [] : [index - 1]))
    }
    let job = Job(study: "bench", subjects: subjects, stages: stages)
    let expected = mixed ? subjectCount * sessionCount * (stageCount - 2) + subjectCount + 1 : subjectCount * sessionCount * stageCount

    let baselineStart = seconds()
    var baselineArray = [Int32](repeating: 0, count: expected)
    for index in baselineArray.indices { baselineArray[index] = Int32(truncatingIfNeeded: index) }
    var checksum = 0
    for value in baselineArray { checksum &+= Int(value) }
    let baseline = seconds() - baselineStart
    baselineArray = []

    let buildStart = seconds()
    guard let graph = try? InstanceGraph(job: job) else { fatalError("too many instances") }
    var scheduler = Scheduler(graph: graph)
    let build = seconds() - buildStart
    let memoryAfterBuild = peakMemoryMiB()

    // 64 workers of 32 cpus; instances finish in the order they started.
    let runStart = seconds()
    var running: [InstanceID] = []
    var head = 0
    for worker in 1...64 {
        for case .start(let id, _) in scheduler.workerJoined(WorkerID(worker), capacity: Capacity(cpus: 32, memory: 1 << 40)) {
            running.append(id)
        }
    }
    var events = 0
    while head < running.count {
        let instance = running[head]
        head += 1
        events += 1
        for case .start(let id, _) in scheduler.instanceFinished(instance, succeeded: true) { running.append(id) }
        if head > 1 << 20 {
            running.removeFirst(head)
            head = 0
        }
    }
    let run = seconds() - runStart
    precondition(scheduler.isFinished && events == graph.instanceCount, "the simulated run did not finish")

    print("\n\(subjectCount) subjects x \(sessionCount) sessions x \(stageCount) stages, \(layout): \(graph.instanceCount) instances (checksum \(checksum % 10))")
    print("baseline (write + sum one Int32 per instance): \(format(baseline, 3)) s")
    print("expand graph + scheduler state: \(format(build, 3)) s = \(format(build / baseline, 1)) x baseline; peak memory \(format(memoryAfterBuild, 1)) MiB")
    print("schedule every instance to completion: \(format(run, 3)) s = \(format(run / baseline, 1)) x baseline, \(Int(Double(events) / run)) instances/s")
}

func seconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func format(_ value: Double, _ decimals: Int) -> String {
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    guard decimals > 0 else { return String(scaled) }
    let digits = String(scaled % scale)
    return "\(scaled / scale).\(String(repeating: "0", count: decimals - digits.count))\(digits)"
}
