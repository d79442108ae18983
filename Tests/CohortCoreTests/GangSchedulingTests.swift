import CohortCore
import CohortTesting
import Testing

/// Stages that span workers (DESIGN §7): N workers on distinct hosts at
/// once, a reservation so that smaller work cannot starve them.
@Suite struct GangSchedulingTests {
    static let job = """
        study: s
        subjects: [a, b, c, d, e, f]
        stages:
          - {name: refine, domain: study, nodes: 2, cpus: 2, after: [], run: x}
          - {name: small, domain: subject, after: [], run: x}
        """
    let refine = InstanceID(0)

    func started(_ actions: [SchedulerAction]) -> [(InstanceID, WorkerID)] {
        actions.compactMap { if case .start(let id, let worker) = $0 { (id, worker) } else { nil } }
    }

    func profile(_ host: String, cpus: Int = 2) -> WorkerProfile {
        WorkerProfile(capacity: Capacity(cpus: cpus, memory: 0), host: host)
    }

    @Test func nodesAreRead() throws {
        let job = try JobLoader.load(text: Self.job, file: "job.yml")
        #expect(job.stages.map(\.nodes) == [2, 1])
        #expect(loadingProblems(Self.job.replacingOccurrences(of: "nodes: 2", with: "nodes: 0"))
            == ["job.yml:4: stages[0].nodes: \"0\" is not a whole number of nodes from 1 to 1024"])
    }

    @Test func aMultiNodeInstanceTakesWorkersOnDistinctHostsAndReleasesThemAll() throws {
        var scheduler = Scheduler(graph: try InstanceGraph(job: try JobLoader.load(text: Self.job, file: "job.yml")))
        var starts: [(InstanceID, WorkerID)] = []
        starts += started(scheduler.workerJoined(WorkerID(1), profile: profile("n1")))
        starts += started(scheduler.workerJoined(WorkerID(2), profile: profile("n1")))
        starts += started(scheduler.workerJoined(WorkerID(3), profile: profile("n2")))
        #expect(!starts.contains { $0.0 == refine }, "not before every worker has joined")
        starts += started(scheduler.allWorkersJoined())
        // Run everything to the end, one end at a time.
        var running = starts
        var seenGang: [WorkerID] = []
        while let (instance, _) = running.first {
            running.removeFirst()
            if instance == refine {
                seenGang = scheduler.gang(of: refine)
                let hosts = Set(seenGang.map { $0 == WorkerID(3) ? "n2" : "n1" })
                #expect(seenGang.count == 2 && hosts.count == 2, "two workers on two hosts: \(seenGang)")
            }
            running += started(scheduler.instanceFinished(instance, succeeded: true))
        }
        #expect(scheduler.isFinished)
        #expect(seenGang.count == 2, "it ran")
    }

    /// Small work keeps coming; the multi-node instance reserves two
    /// workers, which take no new work, and starts once both are free.
    @Test func smallWorkCannotStarveAMultiNodeInstance() throws {
        let job = try JobLoader.load(text: """
            study: s
            subjects: [\((1...40).map { "s\($0)" }.joined(separator: ", "))]
            stages:
              - {name: small, domain: subject, after: [], priority: 10, run: x}
              - {name: refine, domain: study, nodes: 2, after: [], run: x}
            """, file: "job.yml")
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        var running: [(InstanceID, WorkerID)] = []
        for (number, host) in ["n1", "n2", "n3"].enumerated() {
            running += started(scheduler.workerJoined(WorkerID(number + 1), profile: profile(host, cpus: 1)))
        }
        running += started(scheduler.allWorkersJoined())
        let refine = InstanceID(graph.instances(ofStage: 1).lowerBound)
        var smallBeforeRefine = 0
        while !running.isEmpty, !running.contains(where: { $0.0 == refine }) {
            let (instance, _) = running.removeFirst()
            smallBeforeRefine += 1
            running += started(scheduler.instanceFinished(instance, succeeded: true))
        }
        #expect(running.contains { $0.0 == refine }, "it started while small work was left")
        #expect(smallBeforeRefine < 10, "within a few ends, not after all 40: \(smallBeforeRefine)")
        #expect(scheduler.tallies[0].succeeded < 40)
    }

    /// GPUs per node: every worker of a multi-node instance holds its own
    /// devices, never one another running instance holds there.
    @Test(arguments: [1, 2, 3])
    func multiNodeInstancesHoldTheirOwnDevicesOnEveryNode(seed: UInt64) throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [a, b, c, d, e, f]
            stages:
              - {name: refine, domain: subject, nodes: 2, gpus: 1, after: [], run: x}
              - {name: align, domain: subject, gpus: 1, after: [], run: x}
            """, file: "job.yml"))
        var scheduler = Scheduler(graph: graph)
        var running: [(InstanceID, WorkerID)] = []
        for (number, host) in ["n1", "n2", "n3"].enumerated() {
            let profile = WorkerProfile(capacity: Capacity(cpus: 4, memory: 0), devices: ["0", "1"], host: host)
            running += started(scheduler.workerJoined(WorkerID(number + 1), profile: profile))
        }
        running += started(scheduler.allWorkersJoined())
        let ended = scheduler.endAtRandom(running, seed: seed) { scheduler, running in
            var held: Set<String> = []
            for (instance, _) in running {
                let workers = scheduler.gang(of: instance)
                let devices = scheduler.devicesByWorker(of: instance)
                #expect(devices.count == workers.count && devices.allSatisfy { $0.count == 1 }, "one GPU on each of its workers")
                for (worker, names) in zip(workers, devices) {
                    for name in names { #expect(held.insert("\(worker.rawValue)/\(name)").inserted, "GPU \(name) of \(worker) held twice") }
                }
            }
        }
        #expect(scheduler.isFinished && ended == graph.instanceCount)
    }

    @Test func tooFewHostsIsUnplaceable() throws {
        let job = try JobLoader.load(text: Self.job, file: "job.yml")
        let problems = Scheduler.unplaceableStages(of: job, on: [profile("n1"), profile("n1")])
        #expect(problems.map(\.description) == [
            "stage \"refine\" needs 2 nodes (a worker with 2 cpus, 0B memory on each of 2 hosts), but 1 host has one; run on more hosts or lower its nodes",
        ])
        #expect(Scheduler.unplaceableStages(of: job, on: [profile("n1"), profile("n2")]).isEmpty)
    }

    /// A study of one two-node instance, on three workers on three hosts.
    func refineOnThreeHosts(retries: Int) throws -> (Scheduler, [(InstanceID, WorkerID)]) {
        var scheduler = Scheduler(graph: try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            stages:
              - {name: refine, domain: study, nodes: 2, retries: \(retries), run: x}
            """, file: "job.yml")))
        var starts: [(InstanceID, WorkerID)] = []
        for (number, host) in ["n1", "n2", "n3"].enumerated() {
            starts += started(scheduler.workerJoined(WorkerID(number + 1), profile: profile(host)))
        }
        starts += started(scheduler.allWorkersJoined())
        return (scheduler, starts)
    }

    /// Runs every start to its end, one at a time, each a success.
    func runToTheEnd(_ scheduler: inout Scheduler, _ running: [(InstanceID, WorkerID)]) {
        var running = running
        var ends = 0
        while let (instance, _) = running.first, ends < 200 {
            running.removeFirst()
            ends += 1
            running += started(scheduler.instanceFinished(instance, succeeded: true))
        }
    }

    /// Each worker of a multi-node instance gets its room back at its end:
    /// two workers of two cpus then run two one-cpu instances each at once.
    @Test func everyWorkerOfAMultiNodeInstanceGetsItsRoomBack() throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [a, b, c, d, e, f]
            stages:
              - {name: refine, domain: study, nodes: 2, cpus: 2, run: x}
              - {name: small, domain: subject, after: [refine], run: x}
            """, file: "job.yml"))
        var scheduler = Scheduler(graph: graph)
        var starts = started(scheduler.workerJoined(WorkerID(1), profile: profile("n1")))
        starts += started(scheduler.workerJoined(WorkerID(2), profile: profile("n2")))
        starts += started(scheduler.allWorkersJoined())
        #expect(starts.map(\.0) == [refine])
        let next = started(scheduler.instanceFinished(refine, succeeded: true))
        #expect(next.filter { $0.1 == WorkerID(1) }.count == 2 && next.filter { $0.1 == WorkerID(2) }.count == 2, "\(next)")
    }

    /// A multi-node instance that fails with retries left starts again, its
    /// module on a worker it has not failed on (rank 0 crashed here).
    @Test func aFailedMultiNodeInstanceIsRetriedWithAnotherFirstWorker() throws {
        var (scheduler, starts) = try refineOnThreeHosts(retries: 1)
        let first = try #require(starts.first { $0.0 == refine }).1
        let again = started(scheduler.instanceFinished(refine, outcome: .exited(1)))
        #expect(again.count == 1 && again[0].0 == refine && again[0].1 != first, "\(again), first on \(first)")
        #expect(scheduler.gang(of: refine).count == 2)
        _ = scheduler.instanceFinished(refine, succeeded: true)
        #expect(scheduler.state(of: refine) == .succeeded && scheduler.isFinished)
    }

    /// Two multi-node stages on two hosts: the better-ranked one becoming
    /// ready takes the reservation the other held, and everything runs (it
    /// ended with all three stages unrun, "a fault in Cohort").
    @Test func twoMultiNodeStagesShareTheReservation() throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [a, b, c]
            stages:
              - {name: pre, domain: study, after: [], priority: 20, run: x}
              - {name: big, domain: study, nodes: 2, after: [pre], priority: 10, run: x}
              - {name: other, domain: study, nodes: 2, after: [], run: x}
              - {name: small, domain: subject, after: [], run: x}
            """, file: "job.yml"))
        var scheduler = Scheduler(graph: graph)
        var running = started(scheduler.workerJoined(WorkerID(1), profile: profile("n1", cpus: 1)))
        running += started(scheduler.workerJoined(WorkerID(2), profile: profile("n2", cpus: 1)))
        running += started(scheduler.allWorkersJoined())
        runToTheEnd(&scheduler, running)
        #expect(scheduler.isFinished && scheduler.stuck.isEmpty, "\(scheduler.stuck.map(\.description))")
        #expect((0..<graph.instanceCount).allSatisfy { scheduler.state(of: InstanceID($0)) == .succeeded })
    }

    /// A reserved worker's node goes down: the reservation ends, the other
    /// worker goes back to small work, and the stage that can no longer
    /// find two hosts is named (the run ended with small work unrun).
    @Test func aReservationEndsWhenAReservedWorkerLeaves() throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [\((1...6).map { "s\($0)" }.joined(separator: ", "))]
            stages:
              - {name: small, domain: subject, after: [], priority: 10, run: x}
              - {name: pre, domain: study, after: [], priority: 20, run: x}
              - {name: refine, domain: study, nodes: 2, after: [pre], run: x}
            """, file: "job.yml"))
        var scheduler = Scheduler(graph: graph)
        var running = started(scheduler.workerJoined(WorkerID(1), profile: profile("n1", cpus: 1)))
        running += started(scheduler.workerJoined(WorkerID(2), profile: profile("n2", cpus: 1)))
        running += started(scheduler.allWorkersJoined())
        // pre ends on one worker while small work holds the other: refine reserves both.
        let pre = try #require(running.first { graph.name(of: $0.0) == "pre" })
        running.removeAll { $0.0 == pre.0 }
        #expect(started(scheduler.instanceFinished(pre.0, succeeded: true)).isEmpty, "the free worker is held for refine")
        running += started(scheduler.workerLeaving(WorkerID(2), reason: "node down"))
        for (instance, worker) in running where worker == WorkerID(2) {
            running += started(scheduler.instanceFinished(instance, outcome: .interrupted))
        }
        runToTheEnd(&scheduler, running.filter { $0.1 != WorkerID(2) })
        #expect(scheduler.isFinished)
        #expect(scheduler.tallies[0].succeeded == 6, "all small work ran on the worker left")
        #expect(scheduler.stuck.map(\.stage) == ["refine"] && scheduler.stuck.allSatisfy { !$0.unexplained },
                "\(scheduler.stuck.map(\.description))")
    }

    /// A node of a multi-node instance going down loses the attempt (its
    /// MPI program fails with it): it starts again, using up no retry.
    @Test func aMemberWorkerLeavingLosesTheAttempt() throws {
        var (scheduler, _) = try refineOnThreeHosts(retries: 0)
        let gang = scheduler.gang(of: refine)
        try #require(gang.count == 2)
        _ = scheduler.workerLeaving(gang[1], reason: "node down")
        #expect(scheduler.settled(.exited(1), of: refine) == .lost)
        let again = started(scheduler.instanceFinished(refine, outcome: .exited(1)))
        #expect(again.map(\.0) == [refine] && !scheduler.gang(of: refine).contains(gang[1]), "\(again)")
    }

    /// A node where everything fails is not drained while a multi-node
    /// stage still needs every host left (it would become unplaceable).
    @Test func oneOfTheLastHostsOfAMultiNodeStageIsNotDrained() throws {
        let job = try JobLoader.load(text: """
            study: s
            subjects: [\((1...12).map { "s\($0)" }.joined(separator: ", "))]
            stages:
              - {name: small, domain: subject, retries: 2, priority: 10, run: x}
              - {name: refine, domain: study, nodes: 2, retries: 3, after: [small], run: x}
            """, file: "job.yml")
        let workers = [profile("n1", cpus: 1), profile("n2", cpus: 1)]
        let run = try LivenessRun(job: job, workers: workers, seed: 3, failureRate: 0, stopRate: 0, broken: [WorkerID(2)])
        #expect(run.violations == [])
        #expect(run.drained == [], "n2 is one of the two hosts refine needs")
    }

    /// Multi-node instances are placed once every worker has joined: on
    /// the first two hosts to join, two of them would have taken both while
    /// the third host sat idle and a third instance waited.
    @Test func multiNodeInstancesWaitForEveryWorkerToJoin() throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [a, b]
            stages:
              - {name: pair, domain: subject, nodes: 2, run: x}
              - {name: whole, domain: study, nodes: 2, after: [], run: x}
            """, file: "job.yml"))
        var scheduler = Scheduler(graph: graph)
        var starts: [(InstanceID, WorkerID)] = []
        for (number, host) in ["n1", "n2", "n3"].enumerated() {
            starts += started(scheduler.workerJoined(WorkerID(number + 1), profile: profile(host)))
        }
        starts += started(scheduler.allWorkersJoined())
        #expect(starts.count == 3, "all three at once on three hosts of two cpus: \(starts)")
    }

    /// At the start every worker is free: a multi-node instance ready then
    /// starts at once, before single-node work takes the first workers to
    /// join (it waited for both to drain, held idle meanwhile).
    @Test func aMultiNodeInstanceReadyAtTheStartStartsAtOnce() throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [\((1...40).map { "s\($0)" }.joined(separator: ", "))]
            stages:
              - {name: refine, domain: study, nodes: 2, priority: 20, after: [], run: x}
              - {name: small, domain: subject, after: [], run: x}
            """, file: "job.yml"))
        var scheduler = Scheduler(graph: graph)
        var starts = started(scheduler.workerJoined(WorkerID(1), profile: profile("n1", cpus: 4)))
        starts += started(scheduler.workerJoined(WorkerID(2), profile: profile("n2", cpus: 4)))
        starts += started(scheduler.allWorkersJoined())
        #expect(starts.first?.0 == refine && starts.count == 7, "refine, then small work in the room left: \(starts)")
    }
}
