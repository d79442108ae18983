import CohortCore
import CohortMPI
import CohortRun
import CohortTesting
import Testing

/// Rank 0's loop over a fake transport and a manual clock: no MPI, no processes.
@Suite struct CoordinatorTests {
    let job = JobFixtures.job(
        [("convert", .session, []), ("realign", .session, [0]), ("first", .subject, [1]), ("group", .study, [2])],
        cpus: ["first": 2])

    func coordinator(_ cluster: FakeCluster, policy: WorkerPolicy = WorkerPolicy(), reporter: RecordingReporter = RecordingReporter()) throws -> Coordinator {
        let graph = try InstanceGraph(job: job)
        return Coordinator(factory: TaskFactory(graph: graph, jobFolder: "/lab/job"), transport: cluster, localRunner: nil,
                           policy: policy, reporter: reporter, clock: cluster.clock.read)
    }

    @Test func everyInstanceRunsOnceAfterItsDependencies() throws {
        let clock = ManualClock()
        let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: 4), .init(host: "n2", cores: 4)])
        let summary = try coordinator(cluster).run()
        #expect(summary.exitCode == 0)
        #expect(summary.tallies.map(\.succeeded) == [6, 6, 3, 1])
        #expect(summary.resources.map(\.attempts) == [6, 6, 3, 1], "every attempt measured, per stage")
        #expect(summary.resources.allSatisfy { $0.maxPeakMemoryKiB == 1024 })
        #expect(SummaryText.render(summary).contains("wall median       max   memory median       max   attempts"))
        let graph = try InstanceGraph(job: job)
        let byName = Dictionary(uniqueKeysWithValues: cluster.executions.map { ($0.order.name, $0) })
        #expect(byName.count == graph.instanceCount, "each instance sent exactly once")
        for index in 0..<graph.instanceCount {
            let mine = byName[graph.name(of: InstanceID(index))]!
            for dependency in graph.dependencies(of: InstanceID(index)).flatMap({ $0 }) {
                #expect(byName[graph.name(of: InstanceID(dependency))]!.end <= mine.start)
            }
        }
        #expect(cluster.stopped == [1, 2], "every worker told to stop at the end")
    }

    @Test func ordersCarryTheInstanceAndItsFolders() throws {
        let clock = ManualClock()
        let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: 2)])
        _ = try coordinator(cluster).run()
        let order = try #require(cluster.executions.first { $0.order.name == "realign:sub-03:ses-2" }?.order)
        #expect(order.directory == "/lab/job")
        #expect(order.instanceFolder == "/lab/job/out/realign/sub-03/ses-2")
        let environment = Dictionary(uniqueKeysWithValues: order.environment.map { ($0.name, $0.value) })
        #expect(environment["COHORT_SUBJECT"] == "sub-03")
        #expect(environment["COHORT_SESSION"] == "ses-2")
        #expect(environment["COHORT_STAGE"] == "realign")
        #expect(environment["COHORT_WORKDIR"] == order.instanceFolder)
    }

    @Test func capacityComesFromTheMachineSharedAmongItsWorkers() throws {
        let clock = ManualClock()
        // Two worker ranks on n1 (8 cores) share it; n2's one rank has 2 cores.
        let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: 8), .init(host: "n1", cores: 8), .init(host: "n2", cores: 2)])
        let reporter = RecordingReporter()
        _ = try coordinator(cluster, reporter: reporter).run()
        let capacities = reporter.workers.map(\.capacity)
        #expect(capacities == [Capacity(cpus: 4, memory: 32 << 30), Capacity(cpus: 4, memory: 32 << 30), Capacity(cpus: 2, memory: 64 << 30)])
        for (rank, capacity) in zip(1...3, capacities) {
            #expect(cluster.peakCPUs(rank: rank) <= capacity.cpus)
        }
    }

    @Test func slotsOptionOverridesTheMachine() throws {
        let clock = ManualClock()
        let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: 64)])
        _ = try coordinator(cluster, policy: WorkerPolicy(slots: 3)).run()
        #expect(cluster.peakCPUs(rank: 1) == 3)
    }

    @Test func parallelismShortensTheRunByTheManualClock() throws {
        func makespan(cores: Int) throws -> Double {
            let clock = ManualClock(now: 0)
            let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: cores)])
            return try coordinator(cluster).run().elapsedSeconds
        }
        // 2 cpus: 19 cpu-seconds of work (12 session instances, 3 firsts of 2 cpus, group) in 10 s, the optimum.
        #expect(try makespan(cores: 2) == 10)
        // Enough cpus: the length of the chain convert -> realign -> first -> group.
        #expect(try makespan(cores: 12) == 4)
    }

    @Test func failureIsReportedAndSkipsDownstream() throws {
        let clock = ManualClock()
        let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: 4)], outcome: { order in
            order.name == "realign:sub-01:ses-2" ? .exited(3) : .succeeded
        })
        let reporter = RecordingReporter()
        let summary = try coordinator(cluster, reporter: reporter).run()
        #expect(summary.exitCode == 1)
        #expect(summary.failures.map(\.name) == ["realign:sub-01:ses-2"])
        #expect(summary.failures.first?.logTail == "failed on purpose")
        #expect(summary.failures.first?.worker.host == "n1")
        #expect(reporter.skipped.sorted() == ["first:sub-01", "group"])
        #expect(summary.tallies.map(\.succeeded) == [6, 5, 2, 0])
    }

    /// Short attempts that fail twice, then succeed, on one one-cpu worker:
    /// follow-ons queued behind the failures are given back unstarted. They
    /// use no attempt number (no folder was made for them) and the summary
    /// still lists both failures of every instance.
    @Test func followOnsGivenBackUseNoAttemptAndLoseNoFailure() throws {
        let job = Job(study: "s", subjects: (1...6).map { Subject(name: "s\($0)", sessions: []) }, stages: [
            Stage(name: "flaky", domain: .subject, command: "x", dependencies: [], retries: 2),
        ])
        let graph = try InstanceGraph(job: job)
        var runs: [String: Int] = [:]
        let cluster = FakeCluster(clock: ManualClock(), machines: [.init(host: "n1", cores: 1)], duration: { _ in 0.01 },
                                  outcome: { order in
            runs[order.name, default: 0] += 1
            return runs[order.name]! <= 2 ? .exited(1) : .succeeded
        })
        let reporter = RecordingReporter()
        let coordinator = Coordinator(factory: TaskFactory(graph: graph, jobFolder: "/j"), transport: cluster, localRunner: nil,
                                      policy: WorkerPolicy(), reporter: reporter, clock: cluster.clock.read)
        let summary = try coordinator.run()
        #expect(reporter.retries.count == 12, "two retries each: \(reporter.retries)")
        #expect(summary.exitCode == 0)
        #expect(cluster.executions.contains { $0.order.after != nil }, "follow-ons were queued")
        #expect(!reporter.endedEarly.isEmpty && reporter.endedEarly.allSatisfy { $0 == .givenBack },
                "a follow-on given back is not a lost or stopped attempt to the user: \(reporter.endedEarly)")
        #expect(cluster.executions.count == 18, "three runs each")
        let numbers = Set(cluster.executions.map { $0.order.attemptFolder.split(separator: "/").last.map(String.init) ?? "" })
        #expect(numbers == ["1", "2", "3"], "\(numbers)")
        #expect(summary.retried.count == 6)
        #expect(summary.retried.allSatisfy { $0.failedAttempts.map(\.attempt) == [1, 2] }, "\(summary.retried)")
    }

    @Test func unplaceableStageRefusesTheRunAndStopsWorkers() throws {
        let clock = ManualClock()
        let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: 1)])
        #expect(throws: RunRefused.self) { try coordinator(cluster).run() }
        #expect(cluster.executions.isEmpty)
        #expect(cluster.stopped == [1])
    }
}

/// Walltime awareness: what cannot finish before the allocation ends is not started.
@Suite struct WalltimeTests {
    /// `quick` then `slow`, three subjects, each instance 60 s, on one 8-cpu worker, from time 0.
    func run(_ walltime: Walltime, reporter: RecordingReporter = RecordingReporter()) throws -> (RunSummary, FakeCluster) {
        let job = JobFixtures.job([("quick", .subject, []), ("slow", .subject, [0])])
        let graph = try InstanceGraph(job: job)
        let clock = ManualClock(now: 0)
        let cluster = FakeCluster(clock: clock, machines: [.init(host: "n1", cores: 8)], duration: { _ in 60 })
        let coordinator = Coordinator(
            factory: TaskFactory(graph: graph, jobFolder: "/j"), transport: cluster, localRunner: nil,
            policy: WorkerPolicy(), reporter: reporter, walltime: walltime, clock: clock.read, wallClock: clock.read)
        return (try coordinator.run(), cluster)
    }

    @Test func stagesThatWouldOverrunAreHeldAndTheRunEndsResumable() throws {
        let reporter = RecordingReporter()
        // The allocation ends 100 s from now.
        let (summary, cluster) = try run(Walltime(end: 100, stageDurations: [60, 60]), reporter: reporter)
        #expect(summary.tallies.map(\.succeeded) == [3, 0], "quick ran at 0 s; slow would end at 120 s > 100 s")
        #expect(reporter.held == ["slow"])
        #expect(summary.heldForWalltime)
        #expect(summary.exitCode == 143)
        #expect(cluster.stopped == [1])
    }

    /// `--signal=B:USR1@50`: the run is stopped 50 s before the end, so work
    /// must end by then; here `quick` (60 s) no longer fits 100 - 50 s.
    @Test func holdsCountTheStopSignalsLead() throws {
        let (summary, _) = try run(Walltime(end: 100, stageDurations: [60, 60], start: -1000, lead: 50))
        #expect(summary.tallies.map(\.succeeded) == [0, 0])
        #expect(summary.exitCode == 143, "a fresh allocation of 1100 s fits it: resubmit")
    }

    /// A stage that takes longer than the job's whole time limit: the run
    /// says so and exits 1, so a resubmitting wrapper stops instead of
    /// holding it again in every job.
    @Test func aStageLongerThanAWholeAllocationEndsTheChain() throws {
        let (summary, _) = try run(Walltime(end: 100, stageDurations: [60, 500], start: -20, lead: 10))
        #expect(summary.tallies.map(\.succeeded) == [3, 0])
        #expect(summary.tooLongForAnyAllocation.map(\.name) == ["slow"])
        #expect(summary.exitCode == 1)
        #expect(SummaryText.render(summary).contains("Stage slow typically takes 8m20s, more than this job's whole time limit allows (1m50s before the stop signal): resubmitting cannot help"))
    }

    @Test func unknownDurationsAreStartedAnyway() throws {
        #expect(try run(Walltime(end: 100, stageDurations: [nil, nil])).0.exitCode == 0)
    }
}
