import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Gathering the worker ranks at the start of a run.
extension Coordinator {
    /// Waits for every worker rank's hello. With none, rank 0 is the worker;
    /// beside worker ranks, rank 0 also runs `on: rank0` stages, and only those.
    func gatherWorkers() throws -> [WorkerInfo] {
        let host = Machine.hostName
        let offer = Machine.offer
        var here = WorkerHello(host: host, pid: 0, machineCores: offer.cores, machineMemory: offer.memory)
        guard let transport, !transport.workerRanks.isEmpty else {
            here.gpus = Machine.gpus
            let capacity = policy.capacities(for: [(0, here)])[0]!
            let profile = WorkerProfile(capacity: capacity, labels: policy.labels(rank: 0, host: host),
                                        devices: policy.devices(for: [(0, here)])[0]!)
            return [WorkerInfo(id: Self.localWorker, host: host, profile: profile, onGPUHost: !profile.devices.isEmpty)]
        }
        var hellos: [Int: WorkerHello] = [:]
        var backoff = IdleBackoff()
        while hellos.count < transport.workerRanks.count {
            guard let (rank, message) = try transport.poll() else {
                backoff.pause()
                continue
            }
            guard case .hello(let hello) = message else {
                throw RunRefused(description: "rank \(rank) reported a task before saying hello")
            }
            hellos[rank] = hello
            logger.info("rank \(rank) joined", metadata: ["on": "\(hello.host)", "machine_cores": "\(hello.machineCores)"])
        }
        var all = hellos.map { ($0.key, $0.value) }
        let rankZeroStages = graph.job.stages.contains { $0.on == WorkerPolicy.rankZeroLabel }
        if rankZeroStages && localRunner != nil { all.append((0, here)) }
        let capacities = policy.capacities(for: all)
        // Rank 0 beside workers runs only `on: rank0` stages: no GPU of theirs.
        let devices = policy.devices(for: all.filter { $0.0 != 0 })
        let gpuHosts = policy.hostsWithGPUs(all.filter { $0.0 != 0 })
        return all.map(\.0).sorted().map { rank in
            let host = rank == 0 ? host : hellos[rank]!.host
            let profile = WorkerProfile(capacity: capacities[rank]!, labels: policy.labels(rank: rank, host: host),
                                        exclusive: rank == 0, queuesFollowOns: rank != 0, devices: devices[rank] ?? [], host: host)
            return WorkerInfo(id: WorkerID(rank), host: host, profile: profile, pid: rank == 0 ? 0 : hellos[rank]!.pid,
                              onGPUHost: gpuHosts.contains(host))
        }
    }
}
