import CohortCore
import CohortTesting
import Testing

/// The scheduler state machine driven by hand: no MPI, no processes.
@Suite struct SchedulerTests {
    /// convert (session) -> realign (session) -> first (subject) -> group (study).
    let pipeline = JobFixtures.job([
        ("convert", .session, []), ("realign", .session, [0]), ("first", .subject, [1]), ("group", .study, [2]),
    ])

    func started(_ actions: [SchedulerAction]) -> [InstanceID] {
        actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    @Test func onlyReadyInstancesStartAndOnlyAsManyAsFit() throws {
        let graph = try InstanceGraph(job: pipeline)
        var scheduler = Scheduler(graph: graph)
        let actions = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 4, memory: 1 << 30))
        let names = started(actions).map(graph.name(of:))
        #expect(names.count == 4, "4 cpus, 6 ready converts")
        #expect(names.allSatisfy { $0.hasPrefix("convert:") })
    }

    @Test func readinessIsPerInstanceNotPerStage() throws {
        let graph = try InstanceGraph(job: pipeline)
        var scheduler = Scheduler(graph: graph)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 6, memory: 0))
        // Subject 3's second session converts; its realign starts at once,
        // while the other five converts are still running.
        let next = scheduler.instanceFinished(graph.instance("convert:sub-03:ses-2"), succeeded: true)
        #expect(started(next).map(graph.name(of:)) == ["realign:sub-03:ses-2"])
        #expect(scheduler.state(of: graph.instance("realign:sub-01:ses-1")) == .waiting)
    }

    /// While a success's record is being written (an fsync), its room goes
    /// to other work; the success counts only once recorded, and never
    /// frees the same room twice.
    @Test func aSuccessBeingRecordedFreesRoomThatNothingWaitingNeeds() throws {
        let graph = try InstanceGraph(job: JobFixtures.job([("a", .session, []), ("b", .session, [])]))
        var scheduler = Scheduler(graph: graph)
        let first = try #require(started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))).first)
        let second = started(scheduler.successesBeingRecorded([first]))
        #expect(second.count == 1, "its one cpu goes to the next instance at once")
        #expect(scheduler.state(of: first) == .running, "not counted before it is recorded")
        #expect(scheduler.tallies.map(\.succeeded).reduce(0, +) == 0)
        #expect(started(scheduler.instanceFinished(first, succeeded: true)).isEmpty, "its room was handed out already")
        #expect(scheduler.state(of: first) == .succeeded)
        var running = second
        while let instance = running.popLast() {
            running += started(scheduler.successesBeingRecorded([instance]))
            let actions = scheduler.instanceFinished(instance, succeeded: true)
            running += started(actions)
            #expect(running.count <= 1, "never more than its one cpu")
        }
        #expect(scheduler.isFinished)
        #expect(scheduler.tallies.map(\.succeeded) == [6, 6])
    }

    /// A success that makes others ready keeps its room until it counts:
    /// what it unblocks may rank above what is ready already.
    @Test func aSuccessThatUnblocksOthersKeepsItsRoomUntilRecorded() throws {
        let graph = try InstanceGraph(job: pipeline)
        var scheduler = Scheduler(graph: graph)
        let convert = try #require(started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))).first)
        #expect(scheduler.successesBeingRecorded([convert]).isEmpty)
        #expect(started(scheduler.instanceFinished(convert, succeeded: true)).count == 1)
    }

    /// Two successes in one batch that together unblock an instance both
    /// keep their room for it; either alone would not unblock it, and frees its room.
    @Test func successesThatUnblockTogetherKeepTheirRoom() throws {
        let job = JobFixtures.job([("convert", .session, []), ("realign", .session, [0]), ("first", .subject, [1]), ("extra", .session, [])])
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 6, memory: 0))
        let realigns = ["realign:sub-01:ses-1", "realign:sub-01:ses-2"].map(graph.instance)
        for session in ["ses-1", "ses-2"] {
            _ = scheduler.instanceFinished(graph.instance("convert:sub-01:" + session), succeeded: true)
        }
        #expect(realigns.allSatisfy { scheduler.state(of: $0) == .running })
        var together = scheduler
        #expect(together.successesBeingRecorded(realigns).isEmpty, "first:sub-01 needs both: their room waits for it")
        var alone = scheduler
        #expect(started(alone.successesBeingRecorded([realigns[0]])).count == 1, "alone it unblocks nothing: ready work takes its room")
    }

    @Test func subjectWaitsForAllItsSessions() throws {
        let graph = try InstanceGraph(job: pipeline)
        var scheduler = Scheduler(graph: graph)
        var running = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 100, memory: 0)))
        var order: [String] = []
        // Finish instances one at a time, always the oldest; record starts.
        while !running.isEmpty {
            let instance = running.removeFirst()
            let actions = scheduler.instanceFinished(instance, succeeded: true)
            let new = started(actions)
            order += new.map(graph.name(of:))
            running += new
            if actions.contains(.finish) { break }
        }
        let firstSub1 = order.firstIndex(of: "first:sub-01")!
        #expect(order.firstIndex(of: "realign:sub-01:ses-2")! < firstSub1)
        #expect(order.last == "group")
        #expect(scheduler.isFinished)
        #expect(scheduler.tallies.map(\.succeeded) == [6, 6, 3, 1])
    }

    @Test func capacityIsNeverExceeded() throws {
        let job = JobFixtures.job([("big", .session, []), ("small", .session, [])],
                                  cpus: ["big": 3, "small": 1], memory: ["big": 4 << 30, "small": 1 << 30])
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        let capacity = Capacity(cpus: 4, memory: 6 << 30)
        var running: [InstanceID] = started(scheduler.workerJoined(WorkerID(1), capacity: capacity))
        var finishedAll = false
        while !running.isEmpty {
            let used = running.reduce(Capacity(cpus: 0, memory: 0)) { $0 + job.stages[graph.stage(of: $1)].demand }
            #expect(capacity.fits(used), "over capacity: \(used)")
            let actions = scheduler.instanceFinished(running.removeFirst(), succeeded: true)
            running += started(actions)
            finishedAll = actions.contains(.finish)
        }
        #expect(finishedAll)
    }

    @Test func workSpreadsOverWorkers() throws {
        let graph = try InstanceGraph(job: pipeline)
        var scheduler = Scheduler(graph: graph)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0))
        let second = scheduler.workerJoined(WorkerID(2), capacity: Capacity(cpus: 2, memory: 0))
        #expect(second.filter { if case .start(_, WorkerID(2)) = $0 { true } else { false } }.count == 2)
    }

    @Test func failureSkipsDownstreamOnlyAndIndependentWorkFinishes() throws {
        let graph = try InstanceGraph(job: pipeline)
        var scheduler = Scheduler(graph: graph)
        var running = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 100, memory: 0)))
        let failing = graph.instance("convert:sub-02:ses-1")
        var skipped: [String] = []
        var finished = false
        while !running.isEmpty {
            let instance = running.removeFirst()
            let actions = scheduler.instanceFinished(instance, succeeded: instance != failing)
            running += started(actions)
            for case .skip(let id, let cause) in actions {
                #expect(cause == failing)
                skipped.append(graph.name(of: id))
            }
            finished = actions.contains(.finish)
        }
        #expect(finished, "the run ends even though the last instances could not run")
        #expect(skipped.sorted() == ["first:sub-02", "group", "realign:sub-02:ses-1"])
        #expect(scheduler.state(of: graph.instance("first:sub-03")) == .succeeded)
        #expect(scheduler.tallies.map(\.failed) == [1, 0, 0, 0])
        #expect(scheduler.tallies.map(\.skipped) == [0, 1, 1, 1])
    }

    @Test func lastInstanceFailingStillFinishes() throws {
        let graph = try InstanceGraph(job: JobFixtures.job([("only", .study, [])]))
        var scheduler = Scheduler(graph: graph)
        let first = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0)))
        let actions = scheduler.instanceFinished(first[0], succeeded: false)
        #expect(actions == [.stopWorker(WorkerID(1)), .finish])
    }

    @Test func stopRequestedStartsNothingMoreAndFinishesWhenIdle() throws {
        let graph = try InstanceGraph(job: pipeline)
        var scheduler = Scheduler(graph: graph)
        let running = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0)))
        #expect(scheduler.stopRequested().isEmpty, "two instances still run")
        #expect(started(scheduler.instanceFinished(running[0], succeeded: true)).isEmpty)
        #expect(scheduler.instanceFinished(running[1], succeeded: true) == [.stopWorker(WorkerID(1)), .finish])
        #expect(scheduler.tallies[0].succeeded == 2)
    }

    @Test func stageThatFitsNoWorkerIsReported() {
        let job = JobFixtures.job([("small", .study, []), ("huge", .study, [0])], cpus: ["huge": 64])
        let problems = Scheduler.unplaceableStages(of: job, on: [Capacity(cpus: 8, memory: 1 << 30), Capacity(cpus: 16, memory: 0)])
        #expect(problems.map(\.stage) == ["huge"])
        #expect(problems.first?.description.contains("largest worker has 16 cpus") == true)
    }
}

/// Retries and stops.
@Suite struct SchedulerRetryTests {
    func started(_ actions: [SchedulerAction]) -> [InstanceID] {
        actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    @Test func failedAttemptIsRetriedThenFails() throws {
        var job = JobFixtures.job([("flaky", .study, []), ("after", .study, [0])])
        job.stages[0].retries = 2
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        var current = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0)))[0]
        for attempt in 2...3 {
            let actions = scheduler.instanceFinished(current, outcome: .exited(1))
            #expect(actions.contains(.retry(current, attempt: attempt)))
            #expect(scheduler.attempt(of: current) == attempt)
            current = started(actions)[0]
        }
        let last = scheduler.instanceFinished(current, outcome: .exited(1))
        #expect(last.contains(.skip(InstanceID(1), because: InstanceID(0))))
        #expect(last.contains(.finish))
        #expect(scheduler.tallies[0].failed == 1)
    }

    @Test func retryThenSuccessUnblocks() throws {
        var job = JobFixtures.job([("flaky", .study, []), ("after", .study, [0])])
        job.stages[0].retries = 1
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        let first = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0)))[0]
        let again = started(scheduler.instanceFinished(first, outcome: .exited(1)))
        #expect(again == [first])
        #expect(started(scheduler.instanceFinished(first, outcome: .succeeded)) == [InstanceID(1)])
    }

    @Test func interruptedIsNeitherFailedNorRetried() throws {
        var job = JobFixtures.job([("long", .session, [])])
        job.stages[0].retries = 3
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        let running = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0)))
        #expect(scheduler.stopRequested().isEmpty)
        #expect(scheduler.instanceFinished(running[0], outcome: .interrupted).isEmpty)
        // A module that fails while the run stops was stopped by it (its
        // SIGTERM): interrupted too, neither failed nor retried.
        #expect(scheduler.settled(.exited(1), of: running[1]) == .interrupted)
        #expect(scheduler.settled(.succeeded, of: running[1]) == .succeeded)
        #expect(scheduler.instanceFinished(running[1], outcome: .exited(1)) == [.stopWorker(WorkerID(1)), .finish])
        #expect(scheduler.tallies[0].interrupted == 2)
        #expect(scheduler.tallies[0].failed == 0)
    }

    @Test func attemptsOnALeavingWorkerAreLostNotFailed() throws {
        var job = JobFixtures.job([("long", .subject, [])], subjects: Array(JobFixtures.raggedSubjects.prefix(2)))
        job.stages[0].retries = 0
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        let onOne = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0)))
        let onTwo = started(scheduler.workerJoined(WorkerID(2), capacity: Capacity(cpus: 1, memory: 0)))
        #expect(scheduler.settled(.signaled(15), of: onOne[0]) == .signaled(15))
        let drains = scheduler.workerLeaving(WorkerID(1), reason: "received SIGTERM")
        #expect(drains == [.drain(WorkerID(1), reason: "received SIGTERM")])
        // Its module, stopped with its rank, was lost: it starts again on the
        // other worker once that has room, with no retries to spare.
        #expect(scheduler.settled(.signaled(15), of: onOne[0]) == .lost)
        #expect(scheduler.settled(.signaled(15), of: onTwo[0]) == .signaled(15))
        #expect(started(scheduler.instanceFinished(onOne[0], outcome: .signaled(15))).isEmpty)
        #expect(started(scheduler.instanceFinished(onTwo[0], outcome: .succeeded)) == onOne)
        #expect(scheduler.tallies[0].failed == 0)
    }
}
