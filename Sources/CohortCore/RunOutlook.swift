/// What one run will do, per stage: the resume plan within the run's
/// `--only`/`--subjects` selection. The plan's lines, the progress total
/// and the summary's rows all count from this, so they agree.
public struct RunOutlook: Sendable {
    public struct StageLine: Sendable, Equatable {
        public var name: String
        /// Done earlier: not run again.
        public var done = 0
        /// To run in this run, by reason.
        public var toRun: [ResumePlan.Reason: Int] = [:]
        /// Not done, outside the selection: left alone.
        public var outside = 0
        /// Not done, selected, but waiting for an instance outside the
        /// selection that is not done: cannot run in this run.
        public var blocked = 0

        public init(name: String, done: Int = 0, toRun: [ResumePlan.Reason: Int] = [:], outside: Int = 0, blocked: Int = 0) {
            self.name = name
            self.done = done
            self.toRun = toRun
            self.outside = outside
            self.blocked = blocked
        }

        public var toRunCount: Int { toRun.values.reduce(0, +) }
    }

    public private(set) var stages: [StageLine]
    /// Instances this run will try (the progress total).
    public private(set) var toRunCount = 0
    /// Selected instances that wait for one outside the selection that is not done.
    public private(set) var blocked: Set<InstanceID> = []

    public init(plan: ResumePlan, graph: InstanceGraph, selection: Selection = .everything) {
        stages = graph.job.stages.map { StageLine(name: $0.name) }
        let order = ResumePlan.topologicalOrder(graph.job.stages)
        // Per stage: prefix counts of instances that cannot complete in this run.
        var stuckPrefix = Array(repeating: [Int](), count: graph.job.stages.count)
        let members = graph.job.stages.indices.map { graph.members(ofStage: $0) }
        for stage in order {
            let instances = members[stage]
            var stuck = [Int](repeating: 0, count: instances.count + 1)
            for (offset, index) in instances.enumerated() {
                let instance = InstanceID(index)
                var cannotRun = false
                if let reason = plan.reasons[index] {
                    if !selection.contains(instance, in: graph) {
                        stages[stage].outside += 1
                        cannotRun = true
                    } else if waitsForStuck(instance, graph: graph, members: members, stuckPrefix: stuckPrefix) {
                        stages[stage].blocked += 1
                        blocked.insert(instance)
                        cannotRun = true
                    } else {
                        stages[stage].toRun[reason, default: 0] += 1
                        toRunCount += 1
                    }
                } else {
                    stages[stage].done += 1
                }
                stuck[offset + 1] = stuck[offset] + (cannotRun ? 1 : 0)
            }
            stuckPrefix[stage] = stuck
        }
    }

    private func waitsForStuck(_ instance: InstanceID, graph: InstanceGraph, members: [StageMembers], stuckPrefix: [[Int]]) -> Bool {
        var waits = false
        graph.forEachDependency(of: instance) { range, stage in
            let offsets = members[stage].offsets(of: range)
            waits = stuckPrefix[stage][offsets.upperBound] - stuckPrefix[stage][offsets.lowerBound] > 0
            return !waits
        }
        return waits
    }
}
