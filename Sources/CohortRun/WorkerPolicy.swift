public import CohortCore

/// How workers are sized and labelled: `--slots`/`--memory`, else the
/// machine shared among the worker ranks on it; `--label`, `--label-rank`,
/// `--label-host`.
public struct WorkerPolicy: Sendable {
    public var slots: Int?
    public var memory: Int64?
    /// `--gpus`: each host's GPUs (else what each worker found on its node).
    public var gpus: [String]?
    /// Labels every worker gets.
    public var labels: Set<String>
    public var labelsByRank: [Int: Set<String>]
    public var labelsByHost: [String: Set<String>]

    /// The label of the scheduler's own process (`on: rank0`).
    public static let rankZeroLabel = "rank0"

    public init(slots: Int? = nil, memory: Int64? = nil, labels: Set<String> = [],
                labelsByRank: [Int: Set<String>] = [:], labelsByHost: [String: Set<String>] = [:]) {
        self.slots = slots
        self.memory = memory
        self.labels = labels
        self.labelsByRank = labelsByRank
        self.labelsByHost = labelsByHost
    }

    /// Capacity of each worker given every worker's hello: cores and memory
    /// of a host divided by the worker ranks on it, at least one cpu each.
    public func capacities(for hellos: [(rank: Int, hello: WorkerHello)]) -> [Int: Capacity] {
        var perHost: [String: Int] = [:]
        for (_, hello) in hellos { perHost[hello.host, default: 0] += 1 }
        var result: [Int: Capacity] = [:]
        for (rank, hello) in hellos {
            let sharing = perHost[hello.host] ?? 1
            result[rank] = Capacity(
                cpus: slots ?? max(1, hello.machineCores / sharing),
                memory: memory ?? hello.machineMemory / Int64(sharing))
        }
        return result
    }

    /// The GPU devices of each worker: its host's (`--gpus`, else what the
    /// worker found) shared out among the worker ranks on that host, in rank
    /// order and in contiguous runs, so that no two workers hold one device.
    public func devices(for hellos: [(rank: Int, hello: WorkerHello)]) -> [Int: [String]] {
        var ranksByHost: [String: [Int]] = [:]
        for (rank, hello) in hellos { ranksByHost[hello.host, default: []].append(rank) }
        var result: [Int: [String]] = [:]
        for (rank, hello) in hellos {
            let sharing = ranksByHost[hello.host]!.sorted()
            let devices = gpus ?? hello.gpus
            let place = sharing.firstIndex(of: rank)!
            result[rank] = Array(devices[devices.count * place / sharing.count..<devices.count * (place + 1) / sharing.count])
        }
        return result
    }

    /// The hosts whose workers have GPUs to share (a worker there may get none).
    public func hostsWithGPUs(_ hellos: [(rank: Int, hello: WorkerHello)]) -> Set<String> {
        Set(hellos.filter { !(gpus ?? $0.hello.gpus).isEmpty }.map(\.hello.host))
    }

    /// The labels of the worker on `rank` running on `host`.
    public func labels(rank: Int, host: String) -> Set<String> {
        var result = labels.union(labelsByRank[rank] ?? []).union(labelsByHost[host] ?? [])
        if rank == 0 { result.insert(Self.rankZeroLabel) }
        return result
    }
}
