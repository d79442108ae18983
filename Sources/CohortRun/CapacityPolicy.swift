public import CohortMPI
public import CohortCore

/// What sizes workers: `--slots`/`--memory`, else the machine shared among
/// the worker ranks on it.
public struct CapacityPolicy: Sendable {
    public var slots: Int?
    public var memory: Int64?

    public init(slots: Int? = nil, memory: Int64? = nil) {
        self.slots = slots
        self.memory = memory
    }

    /// Capacity of each worker given every worker's hello: cores and memory
    /// of a host divided by the worker ranks on it, at least one cpu each.
    public func capacities(for hellos: [(rank: Int, hello: WorkerHello)]) -> [Int: Capacity] {
        var perHost: [String: Int] = [:]
        for (_, hello) in hellos { perHost[hello.host, default: 0] += 1 }
        var result: [Int: Capacity] = [:]
        for (rank, hello) in hellos {
            let sharing = Int64(perHost[hello.host] ?? 1)
            result[rank] = Capacity(
                cpus: slots ?? max(1, Int(hello.machineCores / sharing)),
                memory: memory ?? hello.machineMemory / sharing)
        }
        return result
    }
}
