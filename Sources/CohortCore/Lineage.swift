/// What a success was built from (DESIGN §5, lineage).
///
/// Every success gets a stamp, unique to that success: the run's random id,
/// the instance and its attempt number. A success also records the digest
/// of its inputs: the stamps of the successes of every instance it waited
/// for. The result is current while the digest of the stamps its
/// dependencies hold now is the same; when an upstream instance succeeded
/// again, or the set of upstream instances changed (a subject added or
/// removed, `after:` edited), the digest differs and it reruns.
///
/// The digest is a sum of mixed stamps (mod 2^64): order does not matter,
/// and the digest of a contiguous range of instances is a difference of two
/// prefix sums, so a study-level instance over a million inputs costs one
/// subtraction to check, and planning stays linear.
public enum Lineage {
    /// The stamp of a success: nonzero, and different for every success.
    public static func stamp(run: String, instance: String, attempt: Int) -> UInt64 {
        var hasher = FNV1a()
        hasher.add(run)
        hasher.add(instance)
        hasher.add(UInt64(attempt))
        return hasher.value == 0 ? 1 : hasher.value
    }

    /// A stamp's contribution to an inputs digest (a bijective mix, so that
    /// sums of related stamps do not cancel out).
    public static func mix(_ stamp: UInt64) -> UInt64 {
        var z = stamp &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The digest of `instance`'s inputs: its dependencies' current stamps.
    public static func inputs(of instance: InstanceID, in graph: InstanceGraph, stamps: [UInt64]) -> UInt64 {
        var digest: UInt64 = 0
        graph.forEachInput(of: instance) { range, _ in
            for index in range { digest &+= mix(stamps[index]) }
            return true
        }
        return digest
    }

    /// A random run id (16 hex digits), for stamps; recorded with the run.
    public static func newRunID<G: RandomNumberGenerator>(using generator: inout G) -> String {
        hex16(UInt64.random(in: 1...UInt64.max, using: &generator))
    }
}

/// The stamps a run's instances hold as it goes: a new success records the
/// digest of its dependencies' stamps, then holds a stamp of its own.
public struct RunLineage: Sendable {
    public private(set) var definitions: Definitions
    public let runID: String
    /// Per instance: the stamp of the success it holds (0: none).
    public private(set) var stamps: [UInt64]

    /// Starts from what the resume plan found done.
    public init(plan: ResumePlan, definitions: Definitions, runID: String) {
        self.definitions = definitions
        self.runID = runID
        stamps = plan.stamps
    }

    /// Follows `graph`, grown by items listed during the run.
    public mutating func grow(to graph: InstanceGraph) {
        definitions = definitions.withGraph(graph)
        if graph.instanceCount > stamps.count { stamps.append(contentsOf: repeatElement(0, count: graph.instanceCount - stamps.count)) }
    }

    /// What the journal records for attempt `attempt` (counted over every
    /// run) of `instance`, which just succeeded.
    /// `name`: the instance's, when the caller has it already.
    public mutating func succeeded(_ instance: InstanceID, name: String? = nil, attempt: Int) -> SuccessLineage {
        let graph = definitions.graph
        let stamp = Lineage.stamp(run: runID, instance: name ?? graph.name(of: instance), attempt: attempt)
        let lineage = SuccessLineage(definition: definitions.of(instance), stamp: stamp,
                                     inputs: Lineage.inputs(of: instance, in: graph, stamps: stamps))
        stamps[instance.index] = stamp
        return lineage
    }
}
