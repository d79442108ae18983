import CohortCore
import CohortTesting
import Testing

/// Watched generators (DESIGN §8): looks at an interval, new items at once,
/// what waits for the session held until the watch ends.
@Suite struct WatchSchedulingTests {
    static let job = """
        study: s
        subjects: [a]
        sessions: [s1]
        stages:
          - {name: import, domain: session, items: true, watch: 60s, until: raw/DONE, retries: 1, run: x}
          - {name: mc, foreach: import, run: x}
          - {name: pick, domain: session, after: [mc], run: x}
        """
    let importer = InstanceID(0), pick = InstanceID(1)

    func started(_ actions: [SchedulerAction]) -> [InstanceID] {
        actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    func scheduler(endWhenIdle: Bool = false) throws -> Scheduler {
        Scheduler(graph: try InstanceGraph(job: try JobLoader.load(text: Self.job, file: "job.yml")), endWatchesWhenIdle: endWhenIdle)
    }

    /// Runs every item instance that starts to success; returns their names.
    func runItems(_ scheduler: inout Scheduler, from actions: [SchedulerAction]) -> [String] {
        var running = started(actions)
        var names: [String] = []
        while let instance = running.first {
            running.removeFirst()
            names.append(scheduler.graph.name(of: instance))
            running += started(scheduler.instanceFinished(instance, succeeded: true))
        }
        return names
    }

    @Test func looksAtItsIntervalAddsNewItemsAndHoldsTheSessionUntilItsLastLook() throws {
        var scheduler = try scheduler()
        _ = scheduler.timePassed(now: 1000)
        #expect(started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))) == [importer])
        scheduler.list(["m1"], by: importer)
        #expect(scheduler.watchGoesOn(after: importer))
        var actions = scheduler.instanceFinished(importer, succeeded: true)
        #expect(actions.contains(.lookAgain(importer, inSeconds: 60)))
        #expect(runItems(&scheduler, from: actions) == ["mc:a:s1:m1"])
        #expect(scheduler.state(of: pick) == .waiting, "the session waits for the watch's end")
        #expect(!scheduler.isFinished)
        #expect(started(scheduler.timePassed(now: 1059)).isEmpty, "not before its interval")
        #expect(started(scheduler.timePassed(now: 1060)) == [importer], "a look: the generator runs again")
        #expect(scheduler.attempt(of: importer) == 2)
        #expect(scheduler.isLook(importer))
        let listing = scheduler.list(["m1", "m2"], by: importer)
        #expect(listing.added.map { scheduler.graph.name(of: $0) } == ["mc:a:s1:m2"], "m1 ran: it is not run again")
        #expect(runItems(&scheduler, from: listing.actions).isEmpty, "the generator's one worker slot is still taken")
        actions = scheduler.instanceFinished(importer, succeeded: true)
        #expect(runItems(&scheduler, from: actions) == ["mc:a:s1:m2"])
        #expect(scheduler.state(of: pick) == .waiting)
        // The `until` file exists as the third look starts: it is the last.
        #expect(started(scheduler.timePassed(now: 1200)) == [importer])
        scheduler.untilFileExists(for: importer)
        #expect(!scheduler.watchGoesOn(after: importer))
        scheduler.list(["m1", "m2"], by: importer)
        actions = scheduler.instanceFinished(importer, succeeded: true)
        #expect(actions.contains(.watchEnded(importer)))
        #expect(runItems(&scheduler, from: actions) == ["pick:a:s1"])
        #expect(scheduler.isFinished)
        #expect(scheduler.tallies.map(\.succeeded) == [1, 2, 1], "looks are not more instances")
    }

    /// An item that fails and then leaves the list (a bad movie the user
    /// removed) skips nothing: what waits for its session runs at the
    /// watch's end (it stayed skipped). One still listed skips it then.
    @Test(arguments: [true, false])
    func anItemThatFailedAndLeftTheListSkipsNothing(leaves: Bool) throws {
        var scheduler = try scheduler()
        _ = scheduler.timePassed(now: 1000)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        scheduler.list(["good", "bad"], by: importer)
        var running = started(scheduler.instanceFinished(importer, succeeded: true))
        var skipped: [InstanceID] = []
        while let instance = running.first {
            running.removeFirst()
            let failing = scheduler.graph.name(of: instance).hasSuffix(":bad")
            let actions = scheduler.instanceFinished(instance, outcome: failing ? .exited(1) : .succeeded)
            skipped += actions.compactMap { if case .skip(let id, _) = $0 { id } else { nil } }
            running += started(actions)
        }
        #expect(skipped.isEmpty, "nothing is skipped while the watch goes on")
        #expect(scheduler.state(of: pick) == .waiting)
        #expect(started(scheduler.timePassed(now: 1060)) == [importer])
        scheduler.untilFileExists(for: importer)
        scheduler.list(leaves ? ["good"] : ["good", "bad"], by: importer)
        let actions = scheduler.instanceFinished(importer, succeeded: true)
        if leaves {
            #expect(started(actions) == [pick], "the failed item is gone: the session goes on")
        } else {
            #expect(actions.contains { if case .skip(pick, _) = $0 { true } else { false } }, "\(actions)")
            #expect(scheduler.state(of: pick) == .skipped && scheduler.isFinished)
        }
    }

    @Test func theUntilFileFoundAtTheFirstRunEndsTheWatchWithIt() throws {
        var scheduler = try scheduler()
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0))
        scheduler.untilFileExists(for: importer)
        scheduler.list([], by: importer)
        let actions = scheduler.instanceFinished(importer, succeeded: true)
        #expect(!actions.contains(.watchEnded(importer)) && !actions.contains(.lookAgain(importer, inSeconds: 60)),
                "nothing to say of a session found complete")
        #expect(runItems(&scheduler, from: actions) == ["pick:a:s1"])
        #expect(scheduler.isFinished)
    }

    @Test func withNoWatchTheLastLookComesWhenNothingElseIsLeft() throws {
        var scheduler = try scheduler(endWhenIdle: true)
        _ = scheduler.timePassed(now: 0)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        _ = scheduler.allWorkersJoined()
        scheduler.list(["m1"], by: importer)
        let first = scheduler.instanceFinished(importer, succeeded: true)
        #expect(started(first).map { scheduler.graph.name(of: $0) } == ["mc:a:s1:m1"], "items first, while it watches")
        let mc = started(first)[0]
        // m1 ends: nothing else to do, so the last look starts at once (not 60 s later).
        #expect(started(scheduler.instanceFinished(mc, succeeded: true)) == [importer])
        #expect(!scheduler.watchGoesOn(after: importer))
        scheduler.list(["m1", "m2"], by: importer)
        let last = scheduler.instanceFinished(importer, succeeded: true)
        #expect(last.contains(.watchEnded(importer)))
        #expect(runItems(&scheduler, from: last) == ["mc:a:s1:m2", "pick:a:s1"], "what the last look found runs, then the session")
        #expect(scheduler.isFinished)
    }

    @Test func aWatchingRunDoesNotFinishWhenEverythingElseIsDone() throws {
        var scheduler = try scheduler()
        _ = scheduler.timePassed(now: 0)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        let actions = scheduler.allWorkersJoined()
        #expect(!actions.contains(.finish))
        scheduler.list([], by: importer)
        let after = scheduler.instanceFinished(importer, succeeded: true)
        #expect(!after.contains(.finish) && !scheduler.isFinished, "it waits for the next look")
        let stop = scheduler.stopRequested()
        #expect(stop.contains(.finish), "a stop ends the watch")
    }

    @Test func aFailedLookKeepsTheItemsListedAndSkipsOnlyWhatWaitedForTheWatch() throws {
        var scheduler = try scheduler()
        _ = scheduler.timePassed(now: 0)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        scheduler.list(["m1"], by: importer)
        let first = scheduler.instanceFinished(importer, succeeded: true)
        let mc = started(first)
        #expect(mc.count == 1)
        _ = scheduler.instanceFinished(mc[0], succeeded: true)
        #expect(started(scheduler.timePassed(now: 60)) == [importer])
        // The look fails: its one retry comes (earlier looks spent none) …
        #expect(scheduler.instanceFinished(importer, succeeded: false).contains(.retry(importer, attempt: 2)))
        #expect(scheduler.state(of: importer) == .running, "its retry started on the freed worker")
        // … and fails too: the session that waited for the watch is skipped, m1 stays done.
        let failed = scheduler.instanceFinished(importer, succeeded: false)
        #expect(failed.contains(.skip(pick, because: importer)))
        #expect(scheduler.state(of: mc[0]) == .succeeded)
        #expect(failed.contains(.finish))
    }

    @Test func aFailedFirstRunSkipsItsBranchAsAnyGeneratorDoes() throws {
        var scheduler = try scheduler()
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        _ = scheduler.instanceFinished(importer, succeeded: false)  // its retry
        let actions = scheduler.instanceFinished(importer, succeeded: false)
        #expect(actions.contains(.skip(pick, because: importer)))
        #expect(actions.contains(.finish), "no watch goes on after a failure")
    }

    @Test func aGeneratorDoneEarlierDoesNotWatch() throws {
        let graph = try InstanceGraph(job: try JobLoader.load(text: Self.job, file: "job.yml"))
        var scheduler = Scheduler(graph: graph, doneEarlier: { $0 == InstanceID(0) })
        let actions = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        #expect(started(actions) == [pick], "its watch ended in an earlier run: the session runs")
    }
}

@Suite struct WatchPlanTests {
    @Test func aGeneratorWhoseWatchWentOnRunsAgainAndWhatWaitsForItWithIt() throws {
        let job = try JobLoader.load(text: WatchSchedulingTests.job, file: "job.yml")
        var graph = try InstanceGraph(job: job)
        graph.list(["m1"], by: InstanceID(0))
        let definitions = Definitions(graph: graph)
        var lineage = RunLineage(plan: ResumePlan(graph: graph, history: JournalHistory(), definitions: definitions),
                                 definitions: definitions, runID: "r1")
        var history = JournalHistory()
        func succeed(_ name: String, watching: Bool? = nil) {
            let instance = (0..<graph.instanceCount).map(InstanceID.init).first { graph.name(of: $0) == name }!
            let record = JournalRecord.Attempt(instance: name, attempt: 1, rank: 1, host: "h", time: 1)
            history.apply(.started(record))
            if let watching { history.apply(.itemsListed(instance: name, attempt: 1, items: ["m1"], time: 1, watching: watching)) }
            history.apply(.finished(record, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 1,
                                                  lineage: lineage.succeeded(instance, attempt: 1))))
        }
        succeed("import:a:s1", watching: true)
        succeed("mc:a:s1:m1")
        var plan = ResumePlan(graph: graph, history: history, definitions: definitions)
        #expect(plan.reasons == [.watching, .new, nil], "import looks again; m1 is kept; pick has not run")

        // Its last look: the watch ended (`watching` absent), and pick ran.
        succeed("import:a:s1", watching: false)
        succeed("pick:a:s1")
        plan = ResumePlan(graph: graph, history: history, definitions: definitions)
        #expect(plan.doneCount == graph.instanceCount)

        // A job file that no longer watches trusts a success after which the watch went on.
        succeed("import:a:s1", watching: true)
        let unwatched = try InstanceGraph(job: try JobLoader.load(
            text: WatchSchedulingTests.job.replacingOccurrences(of: "watch: 60s, until: raw/DONE, ", with: ""), file: "job.yml"))
        #expect(ResumePlan(graph: unwatched, history: history, definitions: Definitions(graph: unwatched)).reasons[0] == nil)
    }
}

@Suite struct WatchJobFileTests {
    func problems(_ stage: String) -> [String] {
        loadingProblems("""
            study: s
            subjects: [a]
            sessions: [s1]
            stages:
              \(stage)
            """)
    }

    @Test func watchAndUntilAreRead() throws {
        let job = try JobLoader.load(text: WatchSchedulingTests.job, file: "job.yml")
        #expect(job.stages[0].watch == 60)
        #expect(job.stages[0].until == "raw/DONE")
        #expect(job.stages[1].watch == nil)
    }

    @Test func badWatchesAreLocated() {
        #expect(problems("- {name: g, domain: session, watch: 60s, run: x}")
            == ["job.yml:5: stages[0].watch: only a stage with items: true watches (it runs again to list the items that appeared)"])
        #expect(problems("- {name: g, domain: session, items: true, watch: often, run: x}")
            == ["job.yml:5: stages[0].watch: \"often\" is not a duration like 30s, 5m or 1h (how long between looks)"])
        #expect(problems("- {name: g, domain: session, items: true, until: DONE, run: x}")
            == ["job.yml:5: stages[0].until: ends a watch, but the stage has no watch: add watch: 60s (how often to look)"])
        #expect(problems("- {name: g, domain: subject, items: true, watch: 1m, until: 'raw/{session}/DONE', run: x}")
            == ["job.yml:5: stages[0].until: {session} has no value in a stage per subject"])
        #expect(problems("- {name: g, domain: session, items: true, watch: 1m, until: 'raw/{item}', run: x}")
            == ["job.yml:5: stages[0].until: {item} has a value only in a foreach stage (one instance per item of a generator)"])
    }
}

/// Found by review: watches inside an allocation, looks that cannot start,
/// retries per look, resumed watches.
@Suite struct WatchEdgeTests {
    let importer = InstanceID(0), pick = InstanceID(1)

    func started(_ actions: [SchedulerAction]) -> [InstanceID] {
        actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    func graph(_ job: String = WatchSchedulingTests.job) throws -> InstanceGraph {
        try InstanceGraph(job: try JobLoader.load(text: job, file: "job.yml"))
    }

    @Test func insideAnAllocationALookIsStartedAndSaidSo() throws {
        var scheduler = Scheduler(graph: try graph(), walltime: Walltime(end: 1e6, stageDurations: [nil, nil, nil]))
        _ = scheduler.timePassed(now: 0)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        scheduler.list([], by: importer)
        _ = scheduler.instanceFinished(importer, succeeded: true)
        #expect(started(scheduler.timePassed(now: 60)) == [importer], "the look's start reaches the loop")
    }

    @Test func aDueLookThatCannotStartEndsTheRunHeld() throws {
        var scheduler = Scheduler(graph: try graph(), walltime: Walltime(end: 1000, stageDurations: [100, nil, nil]))
        _ = scheduler.timePassed(now: 800)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        _ = scheduler.allWorkersJoined()
        scheduler.list([], by: importer)
        _ = scheduler.instanceFinished(importer, succeeded: true)
        _ = scheduler.timePassed(now: 845)
        let due = scheduler.timePassed(now: 920)  // the look is due, but import (100 s) no longer fits: held
        #expect(due.contains(.finish), "the look is held: the run ends for the next allocation to go on")
        #expect(due.contains(.holdStarted(stage: 0, typicalSeconds: 100, secondsLeft: 80)), "and says why: \(due)")
        #expect(scheduler.isHoldingWork)
    }

    @Test func eachLookHasItsOwnRetries() throws {
        var scheduler = Scheduler(graph: try graph())  // retries: 1
        _ = scheduler.timePassed(now: 0)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        scheduler.list([], by: importer)
        _ = scheduler.instanceFinished(importer, succeeded: true)
        _ = scheduler.timePassed(now: 60)
        #expect(scheduler.instanceFinished(importer, succeeded: false).contains(.retry(importer, attempt: 2)))
        scheduler.list([], by: importer)
        _ = scheduler.instanceFinished(importer, succeeded: true)
        #expect(started(scheduler.timePassed(now: 200)) == [importer])
        #expect(scheduler.instanceFinished(importer, succeeded: false).contains(.retry(importer, attempt: 2)),
                "the next look's first failure has its retry too")
    }

    /// A watch resumed from the journal: the items it listed run at once and
    /// a failed first look of this run keeps them.
    @Test func aResumedWatchKeepsTheItemsTheJournalListed() throws {
        var graph = try graph()
        graph.list(["m1", "m2"], by: importer)
        let m1 = InstanceID(2), m2 = InstanceID(3)
        var scheduler = Scheduler(graph: graph, doneEarlier: { $0 == m1 })
        let first = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0)))
        #expect(Set(first) == [importer, m2], "m2 does not wait for the look")
        _ = scheduler.instanceFinished(importer, succeeded: false)
        let failed = scheduler.instanceFinished(importer, succeeded: false)
        #expect(failed.contains(.skip(pick, because: importer)))
        #expect(scheduler.state(of: m2) == .running, "not skipped")
    }

    @Test func aResumedWatchsLastLookReleasesTheSession() throws {
        var graph = try graph()
        graph.list(["m1"], by: importer)
        let m1 = InstanceID(2)
        var scheduler = Scheduler(graph: graph, doneEarlier: { $0 == m1 }, endWatchesWhenIdle: true)
        _ = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
        _ = scheduler.allWorkersJoined()
        scheduler.list(["m1"], by: importer)
        #expect(started(scheduler.instanceFinished(importer, succeeded: true)) == [importer], "nothing else to do: the last look")
        scheduler.list(["m1"], by: importer)
        #expect(started(scheduler.instanceFinished(importer, succeeded: true)) == [pick])
    }

    @Test func itemsOfAWatchOutsideTheSelectionRunFromTheJournaledList() throws {
        var graph = try graph()
        graph.list(["m1"], by: importer)
        let selection = try Selection(only: ["mc:a:s1:m1"], subjects: [], graph: graph)
        var scheduler = Scheduler(graph: graph, selection: selection)
        #expect(started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))) == [InstanceID(2)])
    }
}

@Suite struct ItemSelectionCommaTests {
    @Test func anItemMayHoldACommaAndTheOptionStillSplitsOnStages() throws {
        var graph = try InstanceGraph(job: try JobLoader.load(text: ItemSelectionTests.job, file: "job.yml"))
        graph.list(["m,2.tif", "a.tif"], by: try #require(graph.instance(ofStage: 0, subject: 0, session: 0)))
        let selection = try Selection(only: ["mc:g1:s1:m,2.tif,import"], subjects: [], graph: graph)
        let names = (0..<graph.instanceCount).map(InstanceID.init).filter { selection.contains($0, in: graph) }.map(graph.name(of:))
        #expect(names.sorted() == ["import:g1:s1", "import:g1:s2", "import:g2:s1", "import:g2:s2", "mc:g1:s1:m,2.tif"])
    }
}

/// Found by the second review round.
@Suite struct WatchResumeAndSelectionTests {
    @Test func aWatchedGeneratorChangedSinceItsListMakesItsItemsWaitForTheNewOne() throws {
        var graph = try InstanceGraph(job: try JobLoader.load(text: WatchSchedulingTests.job, file: "job.yml"))
        graph.list(["m1", "m2"], by: InstanceID(0))
        var scheduler = Scheduler(graph: graph, stillWatching: { _ in false })
        let first = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 4, memory: 0))
            .compactMap { if case .start(let id, _) = $0 { id } else { nil } }
        #expect(first == [InstanceID(0)], "forced or changed: its old items wait for its new list")
    }

    @Test func subjectsLeftOutAreNotAskedToListAndAFinishedWatchsTyposAreRefused() throws {
        var graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [g1, g2]
            sessions: [s1]
            stages:
              - {name: import, domain: session, items: true, watch: 1m, run: x}
              - {name: mc, foreach: import, run: x}
            """, file: "job.yml"))
        graph.list(["a.tif"], by: InstanceID(0))
        let onlyG1 = try Selection(only: ["mc"], subjects: ["g1"], graph: graph)
        #expect(onlyG1.itemsNotListedYet(in: graph) == nil, "g2 is outside --subjects")
        let typo = try Selection(only: ["import,mc:g1:s1:b.tif"], subjects: [], graph: graph)
        #expect(typo.unlistedItem(in: graph, watching: ["import:g1:s1"]) == nil, "still watching, and looking in this run: it may come")
        #expect(typo.unlistedItem(in: graph)?.description.contains("lists no item \"b.tif\"") == true, "its watch ended: a typo")
        let withoutImport = try Selection(only: ["mc:g1:s1:b.tif"], subjects: [], graph: graph)
        #expect(withoutImport.unlistedItem(in: graph, watching: ["import:g1:s1"]) != nil, "nothing would look for it in this run")
    }
}
