import CohortCore
import Testing

/// Item stages (DESIGN §8): the job file's side and the lists generators write.
@Suite struct ItemStageTests {
    static let cryoEM = """
        study: cryo
        subjects: [grid1]
        sessions: [s1, s2]
        stages:
          - name: import
            domain: session
            items: true
            run: ls raw/{subject}/{session}/*.tif > "$COHORT_ITEMS"
          - name: motioncorr
            foreach: import
            run: mc {item} {workdir}
          - name: ctf
            foreach: import
            run: ctf {item}
          - name: pick
            domain: session
            after: [ctf]
            run: pick {session}
        """

    @Test func aForeachStageTakesItsGeneratorsLevelAndWaitsForIt() throws {
        let job = try JobLoader.load(text: Self.cryoEM, file: "job.yml")
        #expect(job.stages.map(\.listsItems) == [true, false, false, false])
        #expect(job.stages.map(\.foreach) == [nil, 0, 0, nil])
        #expect(job.stages.map(\.domain) == [.session, .session, .session, .session])
        #expect(job.stages[1].dependencies == [0])
        #expect(job.stages[2].dependencies == [1, 0], "the previous stage (the same item) and always its generator")
        #expect(job.stages[3].dependencies == [2, 0], "and the generator of its branch: a session with no items still waits for its list")
    }

    @Test func itemStageMistakesAreLocated() {
        func variant(_ replace: String, with text: String) -> [String] {
            loadingProblems(Self.cryoEM.replacingOccurrences(of: replace, with: text))
        }
        #expect(variant("foreach: import\n    run: mc", with: "foreach: imprt\n    run: mc")
                == ["job.yml:10: stages[1].foreach: unknown stage \"imprt\" (did you mean \"import\"?)"])
        #expect(variant("    items: true\n", with: "")
                == ["job.yml:9: stages[1].foreach: stage \"import\" lists no items; give it items: true (it writes them to $COHORT_ITEMS)",
                    "job.yml:12: stages[2].foreach: stage \"import\" lists no items; give it items: true (it writes them to $COHORT_ITEMS)"])
        #expect(variant("items: true", with: "items: maybe") == ["job.yml:7: stages[0].items: \"maybe\" is not true or false"])
        #expect(variant("  - name: ctf\n    foreach: import", with: "  - name: ctf\n    domain: session\n    foreach: import")
                == ["job.yml:13: stages[2].domain: a foreach stage runs once per item its generator lists, at the generator's level; remove domain"])
        #expect(variant("run: pick {session}", with: "run: pick {item}")
                == ["job.yml:18: stages[3].run: {item} has a value only in a foreach stage (one instance per item of a generator)"])
        #expect(variant("run: ctf {item}", with: "run: ctf {itme}").count == 1)
    }

    @Test func itemsWithinItemsAndItemsOfAnotherGeneratorAreRefused() {
        #expect(loadingProblems("""
            study: s
            stages:
              - {name: a, domain: study, items: true, run: x}
              - {name: b, foreach: a, items: true, run: y}
            """) == ["job.yml:4: stages[1].items: a foreach stage cannot list items itself (items within items are not supported)"])
        #expect(loadingProblems("""
            study: s
            stages:
              - {name: a, domain: study, items: true, run: x}
              - {name: b, domain: study, items: true, run: x}
              - {name: c, foreach: a, run: y}
              - {name: d, foreach: b, after: [c], run: z}
            """) == ["job.yml:6: stages[3].after: stage \"c\" runs per item of \"a\", this one per item of \"b\"; an item stage waits only on item stages of its own generator"])
    }

    @Test func aGeneratorsListIsRelativePathsOrNamesSpelledOneWay() throws {
        #expect(try ItemList.items(in: "raw/a.tif\n\n./raw//b.tif\r\nraw/a.tif\nmovie 3.tif\n").get() == ["raw/a.tif", "raw/b.tif", "movie 3.tif"])
        func problem(_ text: String) -> String? {
            if case .failure(let problem) = ItemList.items(in: text) { return problem.description }
            return nil
        }
        #expect(problem("a\n/etc/passwd\n") == "line 2: \"/etc/passwd\" is an absolute path; items are relative to the job folder")
        #expect(problem("raw/../../x\n") == "line 1: \"raw/../../x\" leaves the job folder ('..')")
        #expect(problem("ok\nbad\u{1b}[2J\n") == "line 2: \"bad\\u{1b}[2J\" holds a control character")
        #expect(problem("./\n") == "line 1: \"./\" names no file")
        #expect(try ItemList.items(in: "").get() == [], "a generator may find nothing")
        #expect(try ItemList.items(in: "a\n   \nb\n").get() == ["a", "b"], "a line of spaces is blank")
        #expect(problem(String(repeating: "%", count: 100) + "\n")?.hasSuffix("makes a folder name of 300 bytes (`/` and `%` take 3 each); at most 255") == true)
        #expect(try ItemList.items(in: String(repeating: "x", count: 255)).get().count == 1)
    }
}

/// The instance graph with item instances: numbered as generators list
/// them, never renumbered; domain rules one level down.
@Suite struct ItemGraphTests {
    static let job = """
        study: cryo
        subjects: [grid1]
        sessions: [s1, s2]
        stages:
          - {name: import, domain: session, items: true, run: x}
          - {name: motioncorr, foreach: import, run: x}
          - {name: ctf, foreach: import, run: x}
          - {name: pick, domain: session, after: [ctf], run: x}
          - {name: classes, domain: study, run: x}
        """

    func names(_ graph: InstanceGraph, _ ranges: [Range<Int>]) -> [String] {
        ranges.flatMap { $0.map { graph.name(of: InstanceID($0)) } }
    }

    @Test func itemsBecomeInstancesThatWaitOnTheirOwnItemAndSessionsWaitOnAllOfThem() throws {
        let job = try JobLoader.load(text: Self.job, file: "job.yml")
        #expect(job.stages[3].dependencies == [2, 0], "pick waits for ctf and for its session's import")
        var graph = try InstanceGraph(job: job)
        #expect(graph.instanceCount == 5, "import x2, pick x2, classes: no items yet")
        let import1 = InstanceID(0), pick1 = InstanceID(2), pick2 = InstanceID(3)
        #expect(names(graph, graph.dependencies(of: pick1)) == ["import:grid1:s1"], "no items listed: only the generator")

        let (added, dropped) = graph.list(["raw/m1.tif", "raw/m2.tif"], by: import1)
        #expect(dropped.isEmpty)
        #expect(added.map { graph.name(of: $0) } == ["motioncorr:grid1:s1:raw/m1.tif", "motioncorr:grid1:s1:raw/m2.tif",
                                                     "ctf:grid1:s1:raw/m1.tif", "ctf:grid1:s1:raw/m2.tif"])
        #expect(added.map(\.index) == [5, 6, 7, 8])
        let ctf1 = InstanceID(7)
        #expect(names(graph, graph.dependencies(of: ctf1)) == ["motioncorr:grid1:s1:raw/m1.tif", "import:grid1:s1"])
        #expect(names(graph, graph.dependencies(of: pick1)) == ["ctf:grid1:s1:raw/m1.tif", "ctf:grid1:s1:raw/m2.tif", "import:grid1:s1"])
        #expect(names(graph, graph.dependencies(of: pick2)) == ["import:grid1:s2"], "the other session's items are not on its branch")
        #expect(names(graph, graph.dependents(of: import1)) == ["motioncorr:grid1:s1:raw/m1.tif", "motioncorr:grid1:s1:raw/m2.tif",
                                                                "ctf:grid1:s1:raw/m1.tif", "ctf:grid1:s1:raw/m2.tif", "pick:grid1:s1"])
        #expect(names(graph, graph.dependents(of: InstanceID(5))) == ["ctf:grid1:s1:raw/m1.tif"])
        #expect(names(graph, graph.dependents(of: ctf1)) == ["pick:grid1:s1"])
        #expect(graph.coordinates(of: ctf1).session == 0 && graph.labels(of: ctf1) == ("grid1", "s1"))
        #expect(names(graph, graph.dependencies(of: InstanceID(4))) == ["pick:grid1:s1", "pick:grid1:s2"])
    }

    @Test func listingAgainKeepsNumbersDropsWhatVanishedAndRevivesWhatCameBack() throws {
        var graph = try InstanceGraph(job: try JobLoader.load(text: Self.job, file: "job.yml"))
        let import1 = InstanceID(0), pick1 = InstanceID(2)
        graph.list(["m1", "m2"], by: import1)
        let again = graph.list(["m2", "m3"], by: import1)
        #expect(again.dropped.map { graph.name(of: $0) } == ["motioncorr:grid1:s1:m1", "ctf:grid1:s1:m1"])
        #expect(again.added.map { graph.name(of: $0) } == ["motioncorr:grid1:s1:m3", "ctf:grid1:s1:m3"])
        #expect(again.added.map(\.index) == [9, 10], "new numbers after every existing one")
        #expect(!graph.isLive(InstanceID(5)) && graph.isLive(InstanceID(6)))
        #expect(graph.dependencies(of: pick1) == [8..<9, 10..<11, 0..<1], "ctf m2 and m3: two ranges, then the import")
        let back = graph.list(["m1"], by: import1)
        #expect(back.added.map(\.index) == [5, 7], "m1 comes back under its old numbers")
        #expect(graph.instanceCount == 11)
        let none = graph.list([], by: import1)
        #expect(none.dropped.count == 2)
        #expect(graph.dependencies(of: pick1) == [0..<1], "an empty list: the session waits for its import alone")
    }
}

/// The scheduler as generators list items: the run grows, waits on its
/// branch, drops what vanished, and finishes with every item accounted for.
@Suite struct ItemSchedulingTests {
    func started(_ actions: [SchedulerAction]) -> [InstanceID] {
        actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    /// Runs whatever starts to success, listing `items[generator name]` for each generator; returns names in start order.
    func runToEnd(_ scheduler: inout Scheduler, items: [String: [String]], cpus: Int = 2) -> [String] {
        var order: [String] = []
        var running = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: cpus, memory: 0)))
        while let instance = running.first {
            running.removeFirst()
            let name = scheduler.graph.name(of: instance)
            order.append(name)
            if let listed = items[name] { scheduler.list(listed, by: instance) }
            running += started(scheduler.instanceFinished(instance, succeeded: true))
        }
        return order
    }

    @Test func itemsRunAfterTheirGeneratorAndTheSessionAfterAllItsItems() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        var scheduler = Scheduler(graph: try InstanceGraph(job: job))
        let order = runToEnd(&scheduler, items: ["import:grid1:s1": ["a", "b", "c"], "import:grid1:s2": []])
        #expect(scheduler.isFinished)
        #expect(order.count == 5 + 6, "2 imports, 3 motioncorr + 3 ctf for s1, 2 picks, classes")
        func position(_ name: String) -> Int { order.firstIndex(of: name) ?? -1 }
        for item in ["a", "b", "c"] {
            #expect(position("import:grid1:s1") < position("motioncorr:grid1:s1:\(item)"))
            #expect(position("motioncorr:grid1:s1:\(item)") < position("ctf:grid1:s1:\(item)"))
            #expect(position("ctf:grid1:s1:\(item)") < position("pick:grid1:s1"))
        }
        #expect(position("import:grid1:s2") < position("pick:grid1:s2"), "a session with no items picks once its list is known")
        #expect(position("pick:grid1:s1") < position("classes") && position("pick:grid1:s2") < position("classes"))
        #expect(scheduler.tallies.map(\.succeeded) == [2, 3, 3, 2, 1])
        #expect(scheduler.tallies.map(\.total) == [2, 3, 3, 2, 1])
    }

    @Test func aSessionDoesNotStartBeforeItsGeneratorsItemsAreCounted() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph)
        let first = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 8, memory: 0)))
        #expect(first.map { graph.name(of: $0) } == ["import:grid1:s1", "import:grid1:s2"])
        let listed = scheduler.list(["m1"], by: first[0])
        #expect(listed.added.count == 2)
        let next = started(scheduler.instanceFinished(first[0], succeeded: true)).map { scheduler.graph.name(of: $0) }
        #expect(next == ["motioncorr:grid1:s1:m1"], "not pick: it waits for the item's ctf")
        #expect(scheduler.state(of: InstanceID(2)) == .waiting)
    }

    @Test func itemsNoLongerListedAreDroppedAndReleaseWhatWaitedOnThem() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        var scheduler = Scheduler(graph: try InstanceGraph(job: job))
        let imports = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0)))
        #expect(imports.count == 1)
        scheduler.list(["m1", "m2"], by: imports[0])
        let motion = started(scheduler.instanceFinished(imports[0], succeeded: true))
        #expect(motion.count == 1)
        // The generator lists again (as a watched one would) without m2: m2's instances go; m1's running one stays.
        let again = scheduler.list(["m1"], by: imports[0])
        #expect(again.dropped.map { scheduler.graph.name(of: $0) } == ["motioncorr:grid1:s1:m2", "ctf:grid1:s1:m2"])
        #expect(again.dropped.allSatisfy { scheduler.state(of: $0) == .dropped })
        var running = started(scheduler.instanceFinished(motion[0], succeeded: true))
        var seen: [String] = []
        while let instance = running.first {
            running.removeFirst()
            seen.append(scheduler.graph.name(of: instance))
            running += started(scheduler.instanceFinished(instance, succeeded: true))
        }
        #expect(!seen.contains { $0.hasSuffix(":m2") })
        #expect(seen.contains("pick:grid1:s1"))
        #expect(scheduler.isFinished, "dropped items count as accounted for")
        #expect(scheduler.tallies[1].dropped == 1 && scheduler.tallies[2].dropped == 1)
        #expect(scheduler.tallies[1].total == 1, "a dropped item is not in its stage's total")
    }

    @Test func anItemDroppedWhileRunningEndsForNothing() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        var scheduler = Scheduler(graph: try InstanceGraph(job: job))
        let imports = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0)))
        #expect(imports.count == 2, "both sessions' imports")
        scheduler.list(["m1"], by: imports[0])
        let motion = started(scheduler.instanceFinished(imports[0], succeeded: true))
        #expect(motion.map { scheduler.graph.name(of: $0) } == ["motioncorr:grid1:s1:m1"])
        scheduler.list([], by: imports[0])
        #expect(scheduler.state(of: motion[0]) == .running)
        let after = started(scheduler.instanceFinished(motion[0], succeeded: true)).map { scheduler.graph.name(of: $0) }
        #expect(scheduler.state(of: motion[0]) == .dropped, "its end counts for nothing")
        #expect(after == ["pick:grid1:s1"], "s1 waits for no item now; the room goes to its pick")
        #expect(scheduler.tallies[1].succeeded == 0)
    }
}

/// Cases a reviewer found (helper-20): each failed before its fix.
@Suite struct ItemSchedulingEdgeTests {
    func started(_ actions: [SchedulerAction]) -> [InstanceID] {
        actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
    }

    @Test func itemsWhoseBranchFailedAreSkippedWithTheirCause() throws {
        let job = try JobLoader.load(text: """
            study: s
            subjects: [a]
            sessions: [s1]
            stages:
              - {name: x, domain: subject, run: x}
              - {name: import, domain: session, items: true, after: [], run: x}
              - {name: mc, foreach: import, after: [x], run: x}
              - {name: pick, domain: session, after: [mc], run: x}
            """, file: "job.yml")
        var scheduler = Scheduler(graph: try InstanceGraph(job: job))
        let first = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0)))
        let x = InstanceID(0), importer = InstanceID(1)
        #expect(Set(first) == [x, importer])
        _ = scheduler.instanceFinished(x, succeeded: false)
        let listing = scheduler.list(["m1", "m2"], by: importer)
        let skipped = listing.actions.compactMap { if case .skip(let id, let cause) = $0, cause == x { id } else { nil } }
        #expect(skipped.map { scheduler.graph.name(of: $0) }.sorted() == ["mc:a:s1:m1", "mc:a:s1:m2", "pick:a:s1"],
                "both items and the session after them, each naming x:a")
        _ = scheduler.instanceFinished(importer, succeeded: true)
        #expect(listing.added.allSatisfy { scheduler.state(of: $0) == .skipped })
        #expect(scheduler.state(of: InstanceID(2)) == .skipped, "pick, after them")
        #expect(scheduler.isFinished)
    }

    @Test func itemsListedAgainAfterTheGeneratorsSuccessRunAndTheSessionWaitsForThem() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        var scheduler = Scheduler(graph: try InstanceGraph(job: job))
        let imports = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0)))
        scheduler.list(["m1"], by: imports[0])
        var running = started(scheduler.instanceFinished(imports[0], succeeded: true))
        let again = scheduler.list(["m1", "m2"], by: imports[0])
        #expect(again.added.map { scheduler.graph.name(of: $0) } == ["motioncorr:grid1:s1:m2", "ctf:grid1:s1:m2"])
        #expect(scheduler.state(of: again.added[0]) == .ready, "its generator succeeded already")
        running += started(again.actions)
        var seen: [String] = []
        while let instance = running.first {
            running.removeFirst()
            seen.append(scheduler.graph.name(of: instance))
            running += started(scheduler.instanceFinished(instance, succeeded: true))
        }
        #expect(scheduler.isFinished)
        #expect(seen.contains("ctf:grid1:s1:m2") && seen.contains("classes"))
        #expect(seen.firstIndex(of: "ctf:grid1:s1:m2")! < seen.firstIndex(of: "pick:grid1:s1")!)
    }

    @Test func anItemDroppedWhileRunningAndListedAgainRunsOnAndCounts() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        var scheduler = Scheduler(graph: try InstanceGraph(job: job))
        let imports = started(scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 2, memory: 0)))
        scheduler.list(["m1"], by: imports[0])
        let motion = started(scheduler.instanceFinished(imports[0], succeeded: true))
        scheduler.list([], by: imports[0])
        scheduler.list(["m1"], by: imports[0])
        #expect(scheduler.state(of: motion[0]) == .running)
        let next = started(scheduler.instanceFinished(motion[0], succeeded: true)).map { scheduler.graph.name(of: $0) }
        #expect(scheduler.state(of: motion[0]) == .succeeded)
        #expect(next == ["ctf:grid1:s1:m1"])
    }

    @Test func aDroppedItemIsNeverDoneEarlier() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        var graph = try InstanceGraph(job: job)
        let importer = InstanceID(0)
        graph.list(["m1", "m2"], by: importer)
        graph.list(["m2"], by: importer)
        let m1 = try #require(graph.itemInstance(ofStage: 1, generator: importer, item: "m1"))
        let scheduler = Scheduler(graph: graph, doneEarlier: { $0 == importer || $0 == m1 })
        #expect(scheduler.state(of: m1) == .dropped)
        #expect(scheduler.state(of: InstanceID(2)) == .waiting, "pick still waits for m2")
        #expect(graph.instance(ofStage: 1, subject: 0, session: 0) == nil, "a foreach stage has no tree instances")
    }
}

/// Resuming a study with items: the plan finds item instances by name and
/// sees what a changed list means through lineage.
@Suite struct ItemPlanTests {
    /// Every live instance succeeds once, in an order dependencies allow, journaled as a run would.
    func runAll(_ graph: InstanceGraph, into history: inout JournalHistory, run: String) {
        let definitions = Definitions(graph: graph)
        var lineage = RunLineage(plan: ResumePlan(graph: graph, history: history, definitions: definitions),
                                 definitions: definitions, runID: run)
        var scheduler = Scheduler(graph: graph, doneEarlier: { _ in false })
        var running = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 1, memory: 0))
            .compactMap { if case .start(let id, _) = $0 { id } else { nil } }
        var attempt = 0
        while let instance = running.first {
            running.removeFirst()
            attempt += 1
            let name = graph.name(of: instance)
            let success = lineage.succeeded(instance, attempt: 1)
            let record = JournalRecord.Attempt(instance: name, attempt: 1, rank: 1, host: "h", time: Double(attempt))
            history.apply(.started(record))
            history.apply(.finished(record, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 1, lineage: success)))
            running += scheduler.instanceFinished(instance, succeeded: true).compactMap { if case .start(let id, _) = $0 { id } else { nil } }
        }
    }

    @Test func aListThatChangedRerunsWhatWaitedOnItsItemsAndNothingElse() throws {
        let job = try JobLoader.load(text: ItemGraphTests.job, file: "job.yml")
        var graph = try InstanceGraph(job: job)
        let import1 = InstanceID(0), import2 = InstanceID(1)
        graph.list(["m1", "m2"], by: import1)
        graph.list(["n1"], by: import2)
        var history = JournalHistory()
        runAll(graph, into: &history, run: "r1")
        let plan = ResumePlan(graph: graph, history: history, definitions: Definitions(graph: graph))
        #expect(plan.doneCount == graph.instanceCount, "everything, items too, found by name: \(plan.reasons)")

        // The same study resumed with session 1's list grown by m3.
        var grown = try InstanceGraph(job: job)
        grown.list(["m1", "m2", "m3"], by: import1)
        grown.list(["n1"], by: import2)
        let later = ResumePlan(graph: grown, history: history, definitions: Definitions(graph: grown))
        var reasons: [String: ResumePlan.Reason] = [:]
        for index in 0..<grown.instanceCount { reasons[grown.name(of: InstanceID(index))] = later.reasons[index] }
        #expect(reasons["motioncorr:grid1:s1:m3"] == .new && reasons["ctf:grid1:s1:m3"] == .new)
        #expect(reasons["motioncorr:grid1:s1:m1"] == nil && reasons["ctf:grid1:s1:m2"] == nil, "items already run are kept")
        #expect(reasons["pick:grid1:s1"] == .upstream && reasons["classes"] == .upstream)
        #expect(reasons["pick:grid1:s2"] == nil, "the other session is untouched")

        // Or shrunk: m2 vanished. Its session re-picks (its inputs changed); the rest stands.
        var shrunk = try InstanceGraph(job: job)
        shrunk.list(["m1"], by: import1)
        shrunk.list(["n1"], by: import2)
        let smaller = ResumePlan(graph: shrunk, history: history, definitions: Definitions(graph: shrunk))
        let pick1 = InstanceID(2)
        #expect(smaller.reasons[pick1.index] == .inputsChanged)
        #expect(smaller.doneCount == shrunk.instanceCount - 2, "all but pick s1 and classes")
    }
}
