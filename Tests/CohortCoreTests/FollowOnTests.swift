import CohortCore
import CohortTesting
import Testing

/// Follow-ons: instances queued on a worker behind a short running one,
/// started there the moment it ends (no round trip to rank 0).
@Suite struct FollowOnTests {
    static let rank = WorkerID(1)
    static let queueing = WorkerProfile(capacity: Capacity(cpus: 1, memory: 0), queuesFollowOns: true)

    /// What the worker sees: instances started, and follow-ons waiting behind one of them.
    struct WorkerModel {
        var started: [InstanceID] = []
        var queued: [InstanceID: InstanceID] = [:]  // ahead -> follow-on
        var mostAtOnce = 0

        mutating func apply(_ actions: [SchedulerAction]) {
            for action in actions {
                switch action {
                case .start(let instance, _): started.append(instance)
                case .startAfter(let instance, _, let ahead):
                    #expect(queued[ahead] == nil, "one follow-on behind each")
                    #expect(started.contains(ahead), "queued behind an instance that runs")
                    queued[ahead] = instance
                default: break
                }
            }
            mostAtOnce = max(mostAtOnce, started.count)
        }

        /// The oldest started instance ends; its follow-on starts in its place.
        mutating func endOldest() -> InstanceID? {
            guard !started.isEmpty else { return nil }
            let ended = started.removeFirst()
            if let next = queued.removeValue(forKey: ended) { started.append(next) }
            return ended
        }
    }

    func follow(_ actions: [SchedulerAction]) -> [(InstanceID, after: InstanceID)] {
        actions.compactMap { if case .startAfter(let id, _, let ahead) = $0 { (id, ahead) } else { nil } }
    }

    /// Runs `job` to its end on one worker of one cpu, each attempt
    /// succeeding after `wallSeconds(stage)`; returns how many follow-ons were queued.
    func runToEnd(_ job: Job, profile: WorkerProfile = queueing, wallSeconds: (Int) -> Double) throws -> Int {
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph, followOnsBelow: 0.1)
        var worker = WorkerModel()
        worker.apply(scheduler.workerJoined(Self.rank, profile: profile))
        #expect(worker.started.count == 1 && worker.queued.isEmpty, "no follow-on before a stage is known to be short")
        var followOns = 0
        while let ended = worker.endOldest() {
            let actions = scheduler.instanceFinished(ended, outcome: .succeeded, wallSeconds: wallSeconds(graph.stage(of: ended)))
            followOns += follow(actions).count
            worker.apply(actions)
            #expect(worker.mostAtOnce <= 1, "a follow-on starts only when the one ahead ends: one cpu")
            if actions.contains(.finish) { break }
        }
        #expect(scheduler.isFinished)
        #expect(scheduler.tallies.map(\.succeeded).reduce(0, +) == graph.instanceCount)
        return followOns
    }

    @Test func shortAttemptsGetAFollowOnThatTakesOverTheirRoom() throws {
        let job = JobFixtures.job([("a", .session, [])])
        let followOns = try runToEnd(job) { _ in 0.002 }
        #expect(followOns == (try InstanceGraph(job: job)).instanceCount - 2, "every instance but the first two waits behind another")
    }

    @Test func longAttemptsAndLockedStagesGetNone() throws {
        var job = JobFixtures.job([("long", .session, []), ("locked", .session, [])])
        job.stages[1].locks = [StageLock(name: "licence")]
        #expect(try runToEnd(job) { $0 == 1 ? 0.001 : 5 } == 0)
    }

    @Test func workersThatDoNotQueueGetNone() throws {
        let profile = WorkerProfile(capacity: Capacity(cpus: 1, memory: 0))
        #expect(try runToEnd(JobFixtures.job([("a", .session, [])]), profile: profile) { _ in 0.001 } == 0)
    }

    /// A scheduler whose one worker runs `ahead` with `queued` behind it.
    func aFollowOnQueued() throws -> (scheduler: Scheduler, queued: InstanceID, ahead: InstanceID) {
        let graph = try InstanceGraph(job: JobFixtures.job([("a", .session, [])]))
        var scheduler = Scheduler(graph: graph, followOnsBelow: 0.1)
        var worker = WorkerModel()
        worker.apply(scheduler.workerJoined(Self.rank, profile: Self.queueing))
        let ended = worker.endOldest()
        worker.apply(scheduler.instanceFinished(try #require(ended), outcome: .succeeded, wallSeconds: 0.001))
        let (queued, ahead) = try #require(worker.queued.first.map { ($0.value, $0.key) })
        return (scheduler, queued, ahead)
    }

    /// A stopping worker reports its follow-on as not started: when the
    /// worker is leaving it is lost (runs elsewhere, no retry used); the
    /// room it never took is not given back twice.
    @Test func aFollowOnNotStartedOnALeavingWorkerRunsElsewhere() throws {
        var (scheduler, queued, ahead) = try aFollowOnQueued()
        _ = scheduler.workerLeaving(Self.rank, reason: "SIGTERM")
        #expect(scheduler.settled(.couldNotStart("not started"), of: queued) == .lost)
        _ = scheduler.instanceFinished(queued, outcome: .couldNotStart("not started"))
        #expect(scheduler.state(of: queued) == .ready, "lost: in line again")
        _ = scheduler.instanceFinished(ahead, outcome: .signaled(15))
        var other = WorkerModel()
        other.apply(scheduler.workerJoined(WorkerID(2), profile: Self.queueing))
        #expect(other.started.contains(queued), "a retry of a lost attempt goes first, elsewhere")
        #expect(scheduler.attempt(of: queued) == 1, "it never started: its attempt number is used again")
    }

    /// A follow-on reported after the end of the one ahead of it in the same
    /// batch ran (its worker started it once that one ended): its failure
    /// counts. Reported before that end, its worker gave it back unstarted.
    @Test func aFollowOnReportedAfterTheEndAheadOfItRan() throws {
        let (scheduler, queued, _) = try aFollowOnQueued()
        #expect(scheduler.settled(.exited(1), of: queued, aheadEnded: true) == .exited(1))
        #expect(scheduler.settled(.couldNotStart("not started by its worker"), of: queued) == .lost)
    }

    /// The one ahead failed (a broken node?): its worker does not start the
    /// follow-on and says so first. It goes back in line with no retry used
    /// and no failure counted, and the failure is handled as usual.
    @Test func aFollowOnBehindAFailureGoesBackInLine() throws {
        var (scheduler, queued, ahead) = try aFollowOnQueued()
        #expect(scheduler.settled(.couldNotStart("not started by its worker"), of: queued) == .lost)
        _ = scheduler.instanceFinished(queued, outcome: .couldNotStart("not started by its worker"))
        #expect(scheduler.state(of: queued) == .ready)
        let next = scheduler.instanceFinished(ahead, outcome: .exited(1))
        #expect(scheduler.state(of: ahead) == .failed)
        #expect(next.contains(.start(queued, on: Self.rank)), "its one cpu is free again: the lost one starts first")
        #expect(scheduler.attempt(of: queued) == 1)
        #expect(scheduler.tallies[0].failed == 1)
    }

    /// A follow-on stuck behind a slow attempt of a short stage (an outlier,
    /// a hang) is recalled once it has waited too long and another worker
    /// has room; given back, it starts there.
    @Test func aFollowOnStuckBehindASlowAttemptIsRecalledWhenRoomIsFreeElsewhere() throws {
        var (scheduler, queued, _) = try aFollowOnQueued()
        #expect(scheduler.recallStuckFollowOns(now: 0.5).isEmpty, "not waiting long yet")
        #expect(scheduler.recallStuckFollowOns(now: 5).isEmpty, "no room anywhere else: it may as well wait")
        _ = scheduler.workerJoined(WorkerID(2), profile: WorkerProfile(capacity: Capacity(cpus: 10, memory: 0)))
        #expect(scheduler.recallStuckFollowOns(now: 5) == [.recall(queued, on: Self.rank)])
        #expect(scheduler.recallStuckFollowOns(now: 6).isEmpty, "recalled once")
        let back = scheduler.instanceFinished(queued, outcome: .couldNotStart("not started by its worker"))
        #expect(back.contains(.start(queued, on: WorkerID(2))))
        #expect(scheduler.attempt(of: queued) == 1, "given back unstarted: its attempt number is used again")
    }

    @Test func aFollowOnNotStartedInAStopIsInterruptedAndTheRunFinishes() throws {
        var (scheduler, queued, ahead) = try aFollowOnQueued()
        _ = scheduler.stopRequested()
        #expect(scheduler.instanceFinished(queued, outcome: .couldNotStart("not started")).isEmpty)
        #expect(scheduler.state(of: queued) == .interrupted)
        let last = scheduler.instanceFinished(ahead, outcome: .signaled(15))
        #expect(last.contains(.finish))
    }
}
