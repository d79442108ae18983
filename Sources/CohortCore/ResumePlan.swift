/// Which instances a new run can skip because an earlier run did them, and
/// why each other one runs (DESIGN §5).
///
/// An instance is done when its last success still stands in the journal
/// (no attempt started after it, no `--force` covered it since), was made
/// from the definition it has now, every instance it waits for is done, and
/// those hold exactly the successes it was built from (lineage). Anything
/// else runs, and so does everything downstream of it.
public struct ResumePlan: Sendable {
    public enum Reason: String, Sendable, CaseIterable {
        case new = "new"
        case runChanged = "run line changed"
        case scriptChanged = "script changed"
        case setupChanged = "setup changed"
        case environmentChanged = "env changed"
        /// Its success was recorded by an older Cohort, without what it was made from.
        case changed = "made by an older cohort"
        case inputsChanged = "inputs changed"
        case upstreamRedone = "upstream redone"
        case failedEarlier = "failed earlier"
        case unfinished = "unfinished earlier"
        case skippedEarlier = "skipped earlier"
        case upstream = "upstream reruns"
        case forced = "forced"
        /// A watched generator whose watch had not ended (DESIGN §8): it looks again.
        case watching = "still watching"
    }

    /// Per instance: nil when done earlier, else why it runs.
    public private(set) var reasons: [Reason?]
    /// Per instance: the stamp of the success it holds when done, else 0.
    public private(set) var stamps: [UInt64]
    /// How many instances an earlier run completed.
    public private(set) var doneCount = 0
    /// The journal's entry of each instance, as the plan found them (for status).
    public let recorded: InstanceEntries
    /// Watched generators whose watch had not ended (`JournalHistory.watching`).
    private var watching: Set<String> = []

    public init(graph: InstanceGraph, history: JournalHistory, definitions: Definitions) {
        let count = graph.instanceCount
        reasons = Array(repeating: .new, count: count)
        stamps = Array(repeating: 0, count: count)
        recorded = history.entries(of: graph)
        watching = history.watching
        guard !history.isEmpty else { return }
        let stages = graph.job.stages
        // Per stage, after it is planned: prefix sums of mixed stamps and of
        // instances not done, so any dependency range is checked in O(1).
        var digestPrefix = Array(repeating: [UInt64](), count: stages.count)
        var notDonePrefix = Array(repeating: [Int](), count: stages.count)
        let members = stages.indices.map { graph.members(ofStage: $0) }
        for stage in Self.topologicalOrder(stages) {
            let instances = members[stage]
            var digests = [UInt64](repeating: 0, count: instances.count + 1)
            var notDone = [Int](repeating: 0, count: instances.count + 1)
            for (offset, index) in instances.enumerated() {
                let instance = InstanceID(index)
                let reason = reason(for: instance, graph: graph, definitions: definitions) { range, stage in
                    let offsets = members[stage].offsets(of: range)
                    let low = offsets.lowerBound, high = offsets.upperBound
                    return (digestPrefix[stage][high] &- digestPrefix[stage][low], notDonePrefix[stage][high] - notDonePrefix[stage][low])
                }
                reasons[index] = reason
                if reason == nil { doneCount += 1 }
                digests[offset + 1] = digests[offset] &+ (reason == nil ? Lineage.mix(stamps[index]) : 0)
                notDone[offset + 1] = notDone[offset] + (reason == nil ? 0 : 1)
            }
            digestPrefix[stage] = digests
            notDonePrefix[stage] = notDone
        }
    }

    /// `summarise(range, stage)`: the digest of the stamps of done instances
    /// in a dependency range, and how many in it are not done.
    private mutating func reason(
        for instance: InstanceID, graph: InstanceGraph, definitions: Definitions,
        summarise: (Range<Int>, Int) -> (digest: UInt64, notDone: Int)
    ) -> Reason? {
        guard let success = recorded.read(instance, { $0.success }) else { return .new }
        guard let success else {
            guard let entry = recorded[instance] else { return .new }
            if entry.forcePending { return .forced }
            if entry.unfinished || entry.lastOutcome == .interrupted { return .unfinished }
            if entry.lastOutcome != nil { return .failedEarlier }
            if entry.skipped { return .skippedEarlier }
            return .new
        }
        guard let lineage = success.lineage else { return .changed }
        if let change = definitions.change(of: instance, since: lineage.definition) { return change }
        if !watching.isEmpty, graph.job.stages[graph.stage(of: instance)].watch != nil, watching.contains(graph.name(of: instance)) {
            return .watching
        }
        var digest: UInt64 = 0
        var upstreamNotDone = false
        graph.forEachInput(of: instance) { range, stage in
            let summary = summarise(range, stage)
            if summary.notDone > 0 { upstreamNotDone = true }
            digest &+= summary.digest
            return !upstreamNotDone
        }
        if upstreamNotDone { return .upstream }
        guard digest == lineage.inputs else {
            // Redone upstream (a success recorded after this one), or a different set of inputs.
            var redone = false
            graph.forEachInput(of: instance) { range, _ in
                redone = range.contains { recorded.read(InstanceID($0), { $0.success })??.sequence ?? 0 > success.sequence }
                return !redone
            }
            return redone ? .upstreamRedone : .inputsChanged
        }
        stamps[instance.index] = lineage.stamp
        return nil
    }

    public func isDone(_ instance: InstanceID) -> Bool { reasons[instance.index] == nil }

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
