/// Which instances a new run can skip because an earlier run did them, and
/// why each other one runs (DESIGN §5).
///
/// An instance is done when its last success is in the journal with the
/// fingerprint it has now, no attempt started after that success, it is not
/// forced, and everything it waits for is done too. Anything else runs,
/// and so does everything downstream of it.
public struct ResumePlan: Sendable {
    public enum Reason: String, Sendable, CaseIterable {
        case new = "new"
        case changed = "changed"
        case failedEarlier = "failed earlier"
        case unfinished = "unfinished earlier"
        case skippedEarlier = "skipped earlier"
        case upstream = "upstream reruns"
        case forced = "forced"
    }

    /// Per instance: nil when done earlier, else why it runs.
    public private(set) var reasons: [Reason?]

    public init(graph: InstanceGraph, history: JournalHistory, forcedStages: Set<Int> = []) {
        reasons = Array(repeating: .new, count: graph.instanceCount)
        guard !history.entries.isEmpty || !forcedStages.isEmpty else { return }
        for stage in Self.topologicalOrder(graph.job.stages) {
            for index in graph.instances(ofStage: stage) {
                let instance = InstanceID(index)
                reasons[index] = reason(for: instance, stage: stage, graph: graph, history: history, forced: forcedStages)
            }
        }
    }

    private func reason(for instance: InstanceID, stage: Int, graph: InstanceGraph, history: JournalHistory,
                        forced: Set<Int>) -> Reason? {
        if forced.contains(stage) { return .forced }
        guard let entry = history[graph.name(of: instance)] else { return .new }
        if let fingerprint = entry.successFingerprint {
            guard fingerprint == Fingerprint.of(instance, in: graph) else { return .changed }
            let upstreamReruns = graph.dependencies(of: instance).contains { range in
                range.contains { reasons[$0] != nil }
            }
            return upstreamReruns ? .upstream : nil
        }
        if entry.unfinished || entry.lastOutcome == .interrupted { return .unfinished }
        if entry.lastOutcome != nil { return .failedEarlier }
        if entry.skipped { return .skippedEarlier }
        return .new
    }

    public func isDone(_ instance: InstanceID) -> Bool { reasons[instance.index] == nil }

    /// How many instances an earlier run completed.
    public var doneCount: Int { reasons.reduce(0) { $0 + ($1 == nil ? 1 : 0) } }

    /// Per stage: how many are done earlier, and how many run for each reason.
    public func counts(graph: InstanceGraph) -> [(stage: String, done: Int, running: [Reason: Int])] {
        graph.job.stages.indices.map { stage in
            var done = 0
            var running: [Reason: Int] = [:]
            for index in graph.instances(ofStage: stage) {
                if let reason = reasons[index] { running[reason, default: 0] += 1 } else { done += 1 }
            }
            return (graph.job.stages[stage].name, done, running)
        }
    }

    /// Stage indices in an order where every stage follows its dependencies.
    static func topologicalOrder(_ stages: [Stage]) -> [Int] {
        var remaining = stages.map(\.dependencies.count)
        var dependents = Array(repeating: [Int](), count: stages.count)
        for (index, stage) in stages.enumerated() {
            for dependency in stage.dependencies { dependents[dependency].append(index) }
        }
        var order = stages.indices.filter { remaining[$0] == 0 }
        var head = 0
        while head < order.count {
            for next in dependents[order[head]] {
                remaining[next] -= 1
                if remaining[next] == 0 { order.append(next) }
            }
            head += 1
        }
        precondition(order.count == stages.count, "stage graph has a cycle; validation should have refused it")
        return order
    }
}
