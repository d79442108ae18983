import CohortCore
import CohortTesting
import Testing

/// Walltime holds decided by the scheduler alone, on a clock moved by hand.
@Suite struct WalltimeHoldTests {
    func started(_ actions: [SchedulerAction]) -> [InstanceID] {
        actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    func announced(_ actions: [SchedulerAction]) -> [Int] {
        actions.compactMap { if case .holdStarted(let stage, _, _) = $0 { stage } else { nil } }
    }

    /// `quick` (60 s) then `slow` (600 s) per subject; the allocation ends at 1000 s.
    func scheduler(start: Double? = nil, lead: Double = 0) throws -> Scheduler {
        let job = JobFixtures.job([("quick", .subject, []), ("slow", .subject, [0])])
        return Scheduler(graph: try InstanceGraph(job: job),
                         walltime: Walltime(end: 1000, stageDurations: [60, 600], start: start, lead: lead))
    }

    @Test func aStageIsHeldOnceItsTypicalDurationNoLongerFitsAndAnnouncedOnce() throws {
        var scheduler = try scheduler()
        #expect(scheduler.timePassed(now: 0).isEmpty, "1000 s left: everything fits")
        let quick = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 3, memory: 0)))
        #expect(quick.count == 3)
        let late = scheduler.timePassed(now: 500)
        #expect(announced(late) == [1], "500 s left, slow takes 600 s")
        #expect(late.contains(.holdStarted(stage: 1, typicalSeconds: 600, secondsLeft: 500)))
        #expect(scheduler.timePassed(now: 600).isEmpty, "held already: nothing new to say")
        // quick ends; slow's instances become ready but are not started.
        var actions: [SchedulerAction] = []
        for instance in quick { actions += scheduler.instanceFinished(instance, outcome: .succeeded) }
        #expect(started(actions).isEmpty)
        #expect(actions.last == .finish, "nothing running, only held work: the run ends")
        #expect(scheduler.isHoldingWork)
        #expect(scheduler.tooLongForAnyAllocation.isEmpty, "allocation start unknown: resubmitting may help")
    }

    @Test func theStopSignalsLeadShortensTheTimeLeft() throws {
        var scheduler = try scheduler(lead: 500)
        #expect(announced(scheduler.timePassed(now: 0)) == [1], "1000 - 500 s left, slow takes 600 s")
        #expect(started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 8, memory: 0))).count == 3)
    }

    @Test func aStageLongerThanAWholeAllocationIsNamed() throws {
        var scheduler = try scheduler(start: 500)
        _ = scheduler.timePassed(now: 500)
        let quick = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 3, memory: 0)))
        for instance in quick { _ = scheduler.instanceFinished(instance, outcome: .succeeded) }
        #expect(scheduler.isHoldingWork)
        #expect(scheduler.tooLongForAnyAllocation == [TooLongStage(name: "slow", typicalSeconds: 600, allocationSeconds: 500)])
    }

    @Test func aStoppingRunHoldsNothingNew() throws {
        var scheduler = try scheduler()
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 3, memory: 0))
        _ = scheduler.stopRequested()
        #expect(scheduler.timePassed(now: 900).isEmpty)
    }
}
