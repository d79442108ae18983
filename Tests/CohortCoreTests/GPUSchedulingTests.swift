import CohortCore
import CohortTesting
import Testing

/// GPUs as named devices (DESIGN §7): an instance holds its own, never one
/// another running instance holds, and a stage no worker can serve is refused.
@Suite struct GPUSchedulingTests {
    static let job = """
        study: s
        subjects: [a, b, c, d, e, f]
        stages:
          - {name: align, domain: subject, gpus: 1, run: x}
          - {name: refine, domain: subject, gpus: 2, cpus: 2, run: x}
          - {name: stats, domain: subject, after: [], run: x}
        """

    func started(_ actions: [SchedulerAction]) -> [(InstanceID, WorkerID)] {
        actions.compactMap { if case .start(let id, let worker) = $0 { (id, worker) } else { nil } }
    }

    @Test func gpusAreReadAndCountedInTheDemand() throws {
        let job = try JobLoader.load(text: Self.job, file: "job.yml")
        #expect(job.stages.map(\.gpus) == [1, 2, 0])
        #expect(job.stages[1].demand == Capacity(cpus: 2, memory: 0, gpus: 2))
        #expect(loadingProblems(Self.job.replacingOccurrences(of: "gpus: 2", with: "gpus: two"))
            == ["job.yml:5: stages[1].gpus: \"two\" is not a whole number of GPUs from 0 to 64"])
    }

    /// Random ends over two workers with two GPUs each: at every moment the
    /// running instances hold disjoint devices of their own worker, as many as
    /// their stage asks.
    @Test(arguments: [1, 2, 3, 4, 5])
    func runningInstancesNeverShareADevice(seed: UInt64) throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: Self.job, file: "job.yml"))
        var scheduler = Scheduler(graph: graph)
        let profiles = [WorkerProfile(capacity: Capacity(cpus: 4, memory: 0), devices: ["0", "1"]),
                        WorkerProfile(capacity: Capacity(cpus: 4, memory: 0), devices: ["GPU-a", "GPU-b"])]
        var running: [(InstanceID, WorkerID)] = []
        for (number, profile) in profiles.enumerated() {
            running += started(scheduler.workerJoined(WorkerID(number + 1), profile: profile))
        }
        let ended = scheduler.endAtRandom(running, seed: seed) { scheduler, running in
            var held: [String: InstanceID] = [:]
            for (instance, worker) in running {
                let devices = scheduler.devices(of: instance)
                #expect(devices.count == graph.job.stages[graph.stage(of: instance)].gpus)
                for device in devices {
                    #expect(profiles[Int(worker.rawValue) - 1].devices.contains(device), "a device of its own worker")
                    #expect(held.updateValue(instance, forKey: device) == nil, "\(device) held twice")
                }
            }
        }
        #expect(scheduler.isFinished && ended == graph.instanceCount)
    }

    @Test func aStageNeedingMoreGPUsThanAnyWorkerHasIsUnplaceable() throws {
        let job = try JobLoader.load(text: Self.job, file: "job.yml")
        let problems = Scheduler.unplaceableStages(of: job, on: [WorkerProfile(capacity: Capacity(cpus: 8, memory: 0, gpus: 1))])
        #expect(problems.map(\.description) == [
            "stage \"refine\" needs 2 GPUs per instance, but the largest worker has 1 GPU; give workers GPUs (--gpus, or run where Slurm or nvidia-smi finds them) or lower its gpus",
        ])
        let none = Scheduler.unplaceableStages(of: job, on: [WorkerProfile(capacity: Capacity(cpus: 8, memory: 0))])
        #expect(none.map(\.stage) == ["align", "refine"])
        #expect(none[0].description.contains("has no GPU"))
    }

    @Test func gpuStagesAreNeverFollowOns() throws {
        let job = try JobLoader.load(text: """
            study: s
            subjects: [a, b, c]
            stages:
              - {name: align, domain: subject, gpus: 1, run: x}
            """, file: "job.yml")
        var scheduler = Scheduler(graph: try InstanceGraph(job: job), followOnsBelow: 10)
        let actions = scheduler.workerJoined(WorkerID(1), profile: WorkerProfile(capacity: Capacity(cpus: 4, memory: 0, gpus: 1),
                                                                                   queuesFollowOns: true))
        #expect(started(actions).count == 1)
        #expect(!actions.contains { if case .startAfter = $0 { true } else { false } }, "its device would be chosen too early")
    }
}

/// Which GPUs a node offers: --gpus, Slurm, CUDA_VISIBLE_DEVICES, nvidia-smi.
@Suite struct GPUDiscoveryTests {
    @Test func theOptionTakesACountOrNames() {
        #expect(GPUDiscovery.option("3") == ["0", "1", "2"])
        #expect(GPUDiscovery.option("0,2,3") == ["0", "2", "3"])
        #expect(GPUDiscovery.option("GPU-1a2b,MIG-3c") == ["GPU-1a2b", "MIG-3c"])
        #expect(GPUDiscovery.option("0,-1") == nil && GPUDiscovery.option("0,x") == nil && GPUDiscovery.option("01,1") == nil)
        #expect(GPUDiscovery.option("0,0") == nil && GPUDiscovery.option("1,,2") == nil && GPUDiscovery.option("a b") == nil)
        #expect(GPUDiscovery.option("65") == nil)
        #expect(GPUDiscovery.option("1,") == ["1"], "one device named alone (a lone number is a count)")
        #expect(GPUDiscovery.option("1,2,") == nil && GPUDiscovery.option(",") == nil)
    }

    @Test func theNodeSaysWhichGPUsItHas() {
        let smi = "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaa)\nGPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-bbb)\n"
        #expect(GPUDiscovery.devices(environment: [:], nvidiaSMI: smi) == ["0", "1"])
        #expect(GPUDiscovery.devices(environment: [:], nvidiaSMI: nil) == [])
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": "1"], nvidiaSMI: smi) == ["1"], "the user narrowed them")
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": ""], nvidiaSMI: smi) == [])
        let slurm = ["SLURM_JOB_ID": "7", "SLURM_JOB_GPUS": "2,3", "SLURM_STEP_GPUS": "3"]
        #expect(GPUDiscovery.devices(environment: slurm, nvidiaSMI: smi) == ["3"], "the step's, not the whole node's")
        #expect(GPUDiscovery.devices(environment: slurm.merging(["CUDA_VISIBLE_DEVICES": "0"]) { $1 }, nvidiaSMI: nil) == ["0"],
                "inside the job's device cgroup CUDA numbers from 0")
        #expect(GPUDiscovery.devices(environment: ["SLURM_JOB_ID": "7", "CUDA_VISIBLE_DEVICES": "NoDevFiles"], nvidiaSMI: smi) == [])
        #expect(GPUDiscovery.devices(environment: ["SLURM_JOB_ID": "7"], nvidiaSMI: smi) == [], "a job without GPUs")
    }

    /// CUDA reads a device named twice as one and stops at a negative
    /// index; a GPU split into MIG instances is used as those instances.
    @Test func devicesAreReadAsCUDAReadsThem() {
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": "0,0,1"], nvidiaSMI: nil) == ["0", "1"], "never one device held twice")
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": "-1"], nvidiaSMI: nil) == [])
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": "2,-1,3"], nvidiaSMI: nil) == ["2"])
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": "01,1"], nvidiaSMI: nil) == ["1"], "01 is device 1")
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": "0,x,1"], nvidiaSMI: nil) == ["0"])
        #expect(GPUDiscovery.devices(environment: ["CUDA_VISIBLE_DEVICES": "GPU-aa, MIG-bb"], nvidiaSMI: nil) == ["GPU-aa", "MIG-bb"])
        let smi = """
            GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaa)
              MIG 3g.20gb     Device  0: (UUID: MIG-1111)
              MIG 3g.20gb     Device  1: (UUID: MIG-2222)
            GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-bbb)

            """
        #expect(GPUDiscovery.devices(environment: [:], nvidiaSMI: smi) == ["MIG-1111", "MIG-2222", "1"])
    }
}
