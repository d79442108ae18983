import CohortCore
import CohortTesting
import Testing

/// What a rerun skips and what it runs again, and why.
@Suite struct ResumePlanTests {
    /// convert (session) -> realign (session) -> first (subject); qa (subject) after convert.
    let job = JobFixtures.job([
        ("convert", .session, []), ("realign", .session, [0]), ("first", .subject, [1]), ("qa", .subject, [0]),
    ])

    /// A journal in which every instance of `graph` succeeded with its current fingerprint.
    func allDone(_ graph: InstanceGraph, except: Set<String> = []) -> JournalHistory {
        var history = JournalHistory()
        history.apply(.runStarted(.init(jobHash: "j", host: "h", pid: 1, ranks: 1, time: 0)))
        for index in 0..<graph.instanceCount where !except.contains(graph.name(of: InstanceID(index))) {
            let attempt = JournalRecord.Attempt(instance: graph.name(of: InstanceID(index)), attempt: 1, rank: 1, host: "h", time: 0)
            history.apply(.started(attempt))
            history.apply(.finished(attempt, .init(outcome: .succeeded, fingerprint: Fingerprint.of(InstanceID(index), in: graph),
                                                   wallSeconds: 1, peakMemoryKiB: 0)))
        }
        return history
    }

    func reasons(_ plan: ResumePlan, _ graph: InstanceGraph) -> [String: ResumePlan.Reason] {
        var result: [String: ResumePlan.Reason] = [:]
        for index in 0..<graph.instanceCount {
            if let reason = plan.reasons[index] { result[graph.name(of: InstanceID(index))] = reason }
        }
        return result
    }

    @Test func emptyJournalRunsEverythingAsNew() throws {
        let graph = try InstanceGraph(job: job)
        let plan = ResumePlan(graph: graph, history: JournalHistory())
        #expect(plan.doneCount == 0)
        #expect(Set(reasons(plan, graph).values) == [.new])
    }

    @Test func completedJournalRunsNothing() throws {
        let graph = try InstanceGraph(job: job)
        let plan = ResumePlan(graph: graph, history: allDone(graph))
        #expect(plan.doneCount == graph.instanceCount)
    }

    @Test func unfinishedInstanceRerunsWithItsDownstreamOnly() throws {
        let graph = try InstanceGraph(job: job)
        var history = allDone(graph, except: ["convert:sub-03:ses-2"])
        history.apply(.started(.init(instance: "convert:sub-03:ses-2", attempt: 1, rank: 1, host: "h", time: 0)))
        let found = reasons(ResumePlan(graph: graph, history: history), graph)
        #expect(found == [
            "convert:sub-03:ses-2": .unfinished, "realign:sub-03:ses-2": .upstream, "first:sub-03": .upstream, "qa:sub-03": .upstream,
        ])
    }

    @Test func changedRunLineRerunsItsStageAndDownstream() throws {
        let graph = try InstanceGraph(job: job)
        let history = allDone(graph)
        var edited = job
        edited.stages[1].command = "realign --better"
        let newGraph = try InstanceGraph(job: edited)
        let found = reasons(ResumePlan(graph: newGraph, history: history), newGraph)
        #expect(Set(found.filter { $0.key.hasPrefix("realign:") }.values) == [.changed])
        #expect(found.filter { $0.key.hasPrefix("realign:") }.count == 6)
        #expect(Set(found.filter { $0.key.hasPrefix("first:") }.values) == [.upstream])
        #expect(found.keys.contains { $0.hasPrefix("convert:") || $0.hasPrefix("qa:") } == false)
    }

    @Test func environmentAndResourcesAreDefinition() throws {
        let graph = try InstanceGraph(job: job)
        let history = allDone(graph)
        var edited = job
        edited.environment = [EnvironmentVariable(name: "FSLOUTPUTTYPE", value: "NIFTI")]
        #expect(ResumePlan(graph: try InstanceGraph(job: edited), history: history).doneCount == 0)
        var bigger = job
        bigger.stages[2].cpus = 4
        let plan = ResumePlan(graph: try InstanceGraph(job: bigger), history: history)
        #expect(plan.doneCount == graph.instanceCount - 3)
    }

    @Test func failedAndSkippedEarlierRunAgain() throws {
        let graph = try InstanceGraph(job: job)
        var history = allDone(graph, except: ["qa:sub-01", "qa:sub-02"])
        let attempt = JournalRecord.Attempt(instance: "qa:sub-01", attempt: 1, rank: 1, host: "h", time: 0)
        history.apply(.started(attempt))
        history.apply(.finished(attempt, .init(outcome: .exited(2), fingerprint: "x", wallSeconds: 1, peakMemoryKiB: 0)))
        history.apply(.skipped(instance: "qa:sub-02", cause: "x", time: 0))
        let stopped = JournalRecord.Attempt(instance: "qa:sub-03", attempt: 1, rank: 1, host: "h", time: 0)
        history.apply(.started(stopped))
        history.apply(.finished(stopped, .init(outcome: .interrupted, fingerprint: "x", wallSeconds: 1, peakMemoryKiB: 0)))
        let found = reasons(ResumePlan(graph: graph, history: history), graph)
        #expect(found == ["qa:sub-01": .failedEarlier, "qa:sub-02": .skippedEarlier, "qa:sub-03": .unfinished])
    }

    @Test func forcedStageRerunsWithDownstream() throws {
        let graph = try InstanceGraph(job: job)
        let found = reasons(ResumePlan(graph: graph, history: allDone(graph), forcedStages: [1]), graph)
        #expect(found.count == 6 + 3)
        #expect(found["realign:sub-01:ses-1"] == .forced)
        #expect(found["first:sub-02"] == .upstream)
    }

    @Test func everyWorkerIsStoppedWhenNothingIsLeft() throws {
        let graph = try InstanceGraph(job: job)
        let plan = ResumePlan(graph: graph, history: allDone(graph))
        var scheduler = Scheduler(graph: graph, doneEarlier: plan.isDone)
        var actions: [SchedulerAction] = []
        for worker in 1...3 { actions += scheduler.workerJoined(WorkerID(worker), capacity: Capacity(cpus: 2, memory: 0)) }
        #expect(actions.filter { if case .stopWorker = $0 { true } else { false } }.count == 3)
        #expect(actions.filter { $0 == .finish }.count == 1)
    }

    @Test func schedulerSkipsWhatWasDoneEarlier() throws {
        let graph = try InstanceGraph(job: job)
        var history = allDone(graph, except: ["realign:sub-02:ses-1"])
        history.apply(.started(.init(instance: "realign:sub-02:ses-1", attempt: 1, rank: 1, host: "h", time: 0)))
        let plan = ResumePlan(graph: graph, history: history)
        var scheduler = Scheduler(graph: graph, doneEarlier: plan.isDone)
        var running = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 8, memory: 0))
            .compactMap { if case .start(let id, _) = $0 { id } else { nil } }
        #expect(running.map(graph.name(of:)) == ["realign:sub-02:ses-1"])
        let next = scheduler.instanceFinished(running.removeFirst(), result: .succeeded)
        #expect(next.compactMap { if case .start(let id, _) = $0 { graph.name(of: id) } else { nil } } == ["first:sub-02"])
        #expect(scheduler.tallies[1].doneEarlier == 5)
    }
}

/// `--only` and `--subjects`.
@Suite struct SelectionTests {
    let job = JobFixtures.job([("convert", .session, []), ("realign", .session, [0]), ("group", .study, [1])])

    func names(_ selection: Selection, _ graph: InstanceGraph) -> [String] {
        (0..<graph.instanceCount).filter { selection.contains(InstanceID($0), in: graph) }.map { graph.name(of: InstanceID($0)) }
    }

    @Test func patternsSelectStagesSubjectsAndSessions() throws {
        let graph = try InstanceGraph(job: job)
        #expect(names(try Selection(only: ["realign:sub-03:ses-2"], subjects: [], graph: graph), graph) == ["realign:sub-03:ses-2"])
        #expect(names(try Selection(only: ["realign:sub-01"], subjects: [], graph: graph), graph) == ["realign:sub-01:ses-1", "realign:sub-01:ses-2"])
        #expect(names(try Selection(only: ["group,convert:sub-02"], subjects: [], graph: graph), graph) == ["convert:sub-02:ses-1", "group"])
        #expect(names(try Selection(only: [], subjects: ["sub-02"], graph: graph), graph) == ["convert:sub-02:ses-1", "realign:sub-02:ses-1"])
        #expect(Selection.everything.contains(InstanceID(0), in: graph))
    }

    @Test func badSelectionsAreNamed() throws {
        let graph = try InstanceGraph(job: job)
        #expect(throws: SelectionError.self) { try Selection(only: ["realing"], subjects: [], graph: graph) }
        #expect(throws: SelectionError.self) { try Selection(only: ["realign:sub-9"], subjects: [], graph: graph) }
        #expect(throws: SelectionError.self) { try Selection(only: ["realign:sub-01:ses-7"], subjects: [], graph: graph) }
        #expect(throws: SelectionError.self) { try Selection(only: [], subjects: ["sub-1"], graph: graph) }
        #expect(throws: SelectionError.self) { try Selection(only: ["group:sub-01"], subjects: [], graph: graph) }
        do {
            _ = try Selection(only: ["realing"], subjects: [], graph: graph)
        } catch {
            #expect(error.description.contains("(did you mean \"realign\"?)"))
        }
    }

    @Test func schedulerRunsOnlyTheSelectionAndEnds() throws {
        let graph = try InstanceGraph(job: job)
        let selection = try Selection(only: ["convert:sub-01", "realign:sub-01"], subjects: [], graph: graph)
        var scheduler = Scheduler(graph: graph, selection: selection)
        var running = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 8, memory: 0))
            .compactMap { if case .start(let id, _) = $0 { id } else { nil } }
        var ran: [String] = []
        var finished = false
        while !running.isEmpty {
            let instance = running.removeFirst()
            ran.append(graph.name(of: instance))
            let actions = scheduler.instanceFinished(instance, result: .succeeded)
            running += actions.compactMap { if case .start(let id, _) = $0 { id } else { nil } }
            finished = actions.contains(.finish)
        }
        #expect(ran.sorted() == ["convert:sub-01:ses-1", "convert:sub-01:ses-2", "realign:sub-01:ses-1", "realign:sub-01:ses-2"])
        #expect(finished)
        #expect(scheduler.tallies.map(\.unselected) == [4, 4, 1])
        #expect(scheduler.state(of: graph.instance("group")) == .unselected)
    }

    @Test func selectedInstanceWaitingForAnUnselectedOneEndsTheRunWithoutIt() throws {
        let graph = try InstanceGraph(job: job)
        var scheduler = Scheduler(graph: graph, selection: try Selection(only: ["realign"], subjects: [], graph: graph))
        let actions = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 8, memory: 0))
        #expect(actions == [.stopWorker(WorkerID(1)), .finish], "nothing can start: convert is neither done nor selected")
        #expect(scheduler.state(of: graph.instance("realign:sub-01:ses-1")) == .waiting)
    }
}
