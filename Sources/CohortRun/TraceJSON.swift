import CohortCore

/// `cohort report --trace`: Chrome trace-event JSON that Perfetto's UI
/// (ui.perfetto.dev) and chrome://tracing open. A process per worker rank
/// (named with its host), a thread per slot, one complete event per
/// attempt, and counters of running, ready and idle slots.
enum TraceJSON {
    static func render(_ data: TimelineData) -> String {
        let origin = data.run.start
        func micros(_ time: Double) -> JSONValue { .number(((time - origin) * 1_000_000).rounded()) }
        var events: [JSONValue] = []
        // pid 0 carries the run's counters: rank 0 schedules.
        events.append(.object(["name": .string("process_name"), "ph": .string("M"), "pid": .number(0),
                               "args": .object(["name": .string("scheduler: run \(data.runNumber) of \(data.graph.job.study)")])]))
        for worker in data.workers {
            let pid = JSONValue.number(Double(worker.rank + 1))
            events.append(.object(["name": .string("process_name"), "ph": .string("M"), "pid": pid,
                                   "args": .object(["name": .string("rank \(worker.rank) on \(worker.host)")])]))
            events.append(.object(["name": .string("process_sort_index"), "ph": .string("M"), "pid": pid,
                                   "args": .object(["sort_index": .number(Double(worker.rank + 1))])]))
            for lane in 0..<worker.lanes {
                events.append(.object(["name": .string("thread_name"), "ph": .string("M"), "pid": pid, "tid": .number(Double(lane + 1)),
                                       "args": .object(["name": .string("slot \(lane + 1)")])]))
            }
        }
        for (index, span) in data.spans.enumerated() {
            let stage = data.stages[index] >= 0 ? data.graph.job.stages[data.stages[index]].name : "?"
            events.append(.object([
                "name": .string(span.instance), "cat": .string(stage), "ph": .string("X"),
                "ts": micros(span.start), "dur": .number(((span.end - span.start) * 1_000_000).rounded()),
                "pid": .number(Double(span.rank + 1)), "tid": .number(Double(data.lanes[index] + 1)),
                "args": .object(["outcome": .string(span.outcome?.text ?? "unfinished"), "attempt": .number(Double(span.attempt)),
                                 "host": .string(span.host), "peakMemoryKiB": .number(Double(span.peakMemoryKiB))]),
            ]))
        }
        for sample in data.samples {
            events.append(.object(["name": .string("slots"), "ph": .string("C"), "pid": .number(0), "ts": micros(sample.time),
                                   "args": .object(["running": .number(Double(sample.running)), "ready": .number(Double(sample.ready)),
                                                    "idle": .number(Double(sample.idle))])]))
        }
        return JSONValue.object([
            "traceEvents": .array(events), "displayTimeUnit": .string("ms"),
            "otherData": .object(["study": .string(data.graph.job.study), "run": .number(Double(data.runNumber)),
                                  "start": .number(origin)]),
        ]).text
    }
}
