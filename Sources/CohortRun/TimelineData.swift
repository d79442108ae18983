import CohortCore

/// One run's attempts laid out for `cohort report`: each on a lane of its
/// worker, with the counters the trace and the charts show (running,
/// ready, idle slots over time). Read from the journal alone.
struct TimelineData {
    struct Worker {
        var rank: Int
        var host: String
        var lanes: Int
        /// Rows above this worker's first lane.
        var firstRow: Int
    }

    struct Sample {
        var time: Double
        var running: Int
        var ready: Int
        var idle: Int
    }

    let graph: InstanceGraph
    let run: JournalTimeline.Run
    let runNumber: Int
    let spans: [JournalTimeline.Span]
    /// Per span: its stage index (-1 when the job no longer has the stage).
    let stages: [Int]
    /// Per span: its lane on its worker.
    let lanes: [Int]
    let workers: [Worker]
    let samples: [Sample]
    /// Slots of the run: the workers' cpus as they joined, or (journals of
    /// older versions) the lanes attempts were drawn on.
    let slots: Int

    init(graph: InstanceGraph, run: JournalTimeline.Run, runNumber: Int) {
        self.graph = graph
        self.run = run
        self.runNumber = runNumber
        spans = run.spans
        let stageIndex = Dictionary(graph.job.stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        stages = spans.map { stageIndex[String($0.instance.prefix { $0 != ":" })] ?? -1 }
        let placed = JournalTimeline.lanes(of: spans)
        lanes = placed.lane
        var hosts: [Int: String] = [:]
        for worker in run.workers { hosts[worker.rank] = worker.host }
        for span in spans { hosts[span.rank] = span.host }
        // Every worker that joined, also one that ran nothing (idle all along), gets a lane.
        var lanesPerRank = placed.lanesPerRank
        for worker in run.workers where lanesPerRank[worker.rank] == nil { lanesPerRank[worker.rank] = 1 }
        var row = 0
        workers = lanesPerRank.keys.sorted().map { rank in
            defer { row += lanesPerRank[rank]! }
            return Worker(rank: rank, host: hosts[rank] ?? "?", lanes: lanesPerRank[rank]!, firstRow: row)
        }
        // Slots are cpus: each worker's as it joined; journals without join records count lanes.
        let cpus = run.workers.reduce(0) { $0 + $1.cpus }
        let stageCpus = graph.job.stages.map(\.cpus)
        slots = cpus > 0 ? cpus : row
        samples = Self.samples(spans: spans, graph: graph, run: run, slots: slots,
                               cpusOf: { cpus > 0 && $0 >= 0 ? stageCpus[$0] : 1 }, stages: stages)
    }

    /// Per rank: its worker's position in `workers`.
    var workerIndex: [Int: Int] { Dictionary(uniqueKeysWithValues: workers.enumerated().map { ($1.rank, $0) }) }

    /// Running, ready and idle slots at every change. An instance is ready
    /// from when the last instance it waits for succeeded in this run (or the
    /// run's start) until its first attempt here starts. A running attempt
    /// takes `cpusOf(its stage)` slots.
    static func samples(spans: [JournalTimeline.Span], graph: InstanceGraph, run: JournalTimeline.Run, slots: Int,
                        cpusOf: (Int) -> Int, stages: [Int]) -> [Sample] {
        var succeeded: [String: Double] = [:]
        var firstStart: [String: Double] = [:]
        for span in spans {
            if span.outcome == .succeeded { succeeded[span.instance] = span.end }
            firstStart[span.instance] = min(firstStart[span.instance] ?? .infinity, span.start)
        }
        var index: [String: InstanceID] = [:]
        if !firstStart.isEmpty {
            for id in 0..<graph.instanceCount { index[graph.name(of: InstanceID(id))] = InstanceID(id) }
        }
        var changes: [(time: Double, running: Int, ready: Int)] = []
        for (span, stage) in zip(spans, stages) {
            changes.append((span.start, cpusOf(stage), 0))
            changes.append((span.end, -cpusOf(stage), 0))
        }
        for (name, start) in firstStart {
            var ready = run.start
            if let id = index[name] {
                for range in graph.dependencies(of: id) {
                    for dependency in range {
                        if let end = succeeded[graph.name(of: InstanceID(dependency))] { ready = max(ready, end) }
                    }
                }
            }
            if ready < start {
                changes.append((ready, 0, 1))
                changes.append((start, 0, -1))
            }
        }
        changes.sort { $0.time < $1.time }
        var samples: [Sample] = []
        var running = 0, ready = 0
        for change in changes {
            running += change.running
            ready += change.ready
            let sample = Sample(time: change.time, running: running, ready: ready, idle: max(0, slots - running))
            if let last = samples.last, last.time == change.time { samples[samples.count - 1] = sample } else { samples.append(sample) }
        }
        return samples
    }
}
