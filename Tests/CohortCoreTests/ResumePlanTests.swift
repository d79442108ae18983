import CohortCore
import CohortTesting
import Testing

/// What a rerun skips and what it runs again, and why.
@Suite struct ResumePlanTests {
    /// convert (session) -> realign (session) -> first (subject); qa (subject) after convert.
    let job = JobFixtures.job([
        ("convert", .session, []), ("realign", .session, [0]), ("first", .subject, [1]), ("qa", .subject, [0]),
    ])

    /// A study whose every instance is done.
    func done(_ job: Job) throws -> StudySimulation {
        var study = StudySimulation()
        try study.run(job)
        #expect(try study.reasons(job).isEmpty)
        return study
    }

    @Test func emptyJournalRunsEverythingAsNew() throws {
        let graph = try InstanceGraph(job: job)
        let plan = ResumePlan(graph: graph, history: JournalHistory(), definitions: Definitions(graph: graph))
        #expect(plan.doneCount == 0)
        #expect(Set(plan.reasons) == [.new])
    }

    @Test func completedJournalRunsNothing() throws {
        let study = try done(job)
        let (plan, graph) = try study.plan(job)
        #expect(plan.doneCount == graph.instanceCount)
        #expect(plan.stamps.allSatisfy { $0 != 0 })
        #expect(Set(plan.stamps).count == graph.instanceCount, "every success has its own stamp")
    }

    @Test func unfinishedInstanceRerunsWithItsDownstreamOnly() throws {
        var study = try done(job)
        study.apply(.started(.init(instance: "convert:sub-03:ses-2", attempt: 2, rank: 1, host: "h", time: 0)))
        #expect(try study.reasons(job) == [
            "convert:sub-03:ses-2": .unfinished, "realign:sub-03:ses-2": .upstream, "first:sub-03": .upstream, "qa:sub-03": .upstream,
        ])
    }

    @Test func changedRunLineRerunsItsStageAndDownstream() throws {
        let study = try done(job)
        var edited = job
        edited.stages[1].command = "realign --better"
        let found = try study.reasons(edited)
        #expect(Set(found.filter { $0.key.hasPrefix("realign:") }.values) == [.runChanged])
        #expect(found.filter { $0.key.hasPrefix("realign:") }.count == 6)
        #expect(Set(found.filter { $0.key.hasPrefix("first:") }.values) == [.upstream])
        #expect(found.keys.contains { $0.hasPrefix("convert:") || $0.hasPrefix("qa:") } == false)
    }

    @Test func eachPartOfTheDefinitionIsNamed() throws {
        let study = try done(job)
        var environment = job
        environment.environment = [EnvironmentVariable(name: "FSLOUTPUTTYPE", value: "NIFTI")]
        #expect(Set(try study.reasons(environment).filter { $0.key.hasPrefix("convert:") }.values) == [.environmentChanged])
        var setup = job
        setup.stages[3].setup = "module load fsl"
        #expect(try study.reasons(setup) == ["qa:sub-01": .setupChanged, "qa:sub-02": .setupChanged, "qa:sub-03": .setupChanged])
        let scripts: [UInt64?] = [nil, nil, 7, nil]
        #expect(try study.reasons(job, scriptDigests: scripts) == ["first:sub-01": .scriptChanged, "first:sub-02": .scriptChanged,
                                                                    "first:sub-03": .scriptChanged])
        var workdir = job
        workdir.workdir = "elsewhere"
        #expect(Set(try study.reasons(workdir).values) == [.runChanged], "{workdir} is part of the run line")
    }

    /// Successes journaled when run lines were read by their first two words
    /// only (`sh -e modules/x.sh` named no script then): upgrading Cohort
    /// does not rerun them, while an edit of the script after it does.
    @Test func successesFromTheEarlierReadingOfRunLinesStayCurrent() throws {
        let study = try done(job)  // journaled with no script for any stage
        let now: [UInt64?] = [nil, nil, 7, nil]
        #expect(try study.reasons(job, scriptDigests: now, earlierScriptDigests: [nil, nil, nil, nil]).isEmpty)
        #expect(try study.reasons(job, scriptDigests: now, earlierScriptDigests: [nil, nil, 5, nil]).count == 3,
                "the earlier reading saw a script, and it was not the one journaled")
        var edited = try done(job)
        try edited.run(job, scriptDigests: now)
        #expect(try edited.reasons(job, scriptDigests: [nil, nil, 8, nil], earlierScriptDigests: [nil, nil, nil, nil]).count == 3,
                "journaled with the script's digest: an edit reruns")
    }

    @Test func schedulingSettingsNeverTriggerARerun() throws {
        let study = try done(job)
        var edited = job
        edited.stages[2].cpus = 4
        edited.stages[2].memory = 1 << 30
        edited.stages[2].retries = 3
        edited.stages[2].timeout = 60
        edited.stages[2].priority = 10
        edited.stages[2].locks = [StageLock(name: "atlas")]
        edited.stages[2].on = "gpu"
        #expect(try study.reasons(edited).isEmpty)
    }

    /// The first reproduction of issue 8: a -> b -> c all done, a changed and
    /// rerun alone with --only; the next plain run must redo b and c.
    @Test func upstreamRedoneBySelectiveRunMakesDownstreamStale() throws {
        let chain = JobFixtures.job([("a", .subject, []), ("b", .subject, [0]), ("c", .study, [1])])
        var study = try done(chain)
        var edited = chain
        edited.stages[0].command = "a --new"
        #expect(try study.run(edited, selection: (["a"], [])) == ["a:sub-01", "a:sub-02", "a:sub-03"])
        #expect(try study.reasons(edited) == [
            "b:sub-01": .upstreamRedone, "b:sub-02": .upstreamRedone, "b:sub-03": .upstreamRedone, "c": .upstream,
        ])
        try study.run(edited)
        #expect(try study.reasons(edited).isEmpty)
    }

    /// --force interrupted halfway: the plain rerun completes it without
    /// redoing what it already redid, and redoes what depends on any of it.
    @Test func interruptedForceIsCompletedByThePlainRun() throws {
        let chain = JobFixtures.job([("a", .subject, []), ("b", .subject, [0]), ("c", .study, [1])])
        var study = try done(chain)
        let redone = try study.run(chain, force: ForceRequest(stages: ["a"]), stopAfter: 2, slots: 1)
        #expect(redone.count == 2)
        let found = try study.reasons(chain)
        let left = Set(["a:sub-01", "a:sub-02", "a:sub-03"]).subtracting(redone)
        #expect(left.count == 1)
        #expect(found[left.first!] == .forced, "forced, never started again since")
        for name in redone { #expect(found[name] == nil, "\(name) was redone already") }
        #expect(found.filter { $0.key.hasPrefix("b:") }.count == 3)
        #expect(found["c"] == .upstream)
        let rerun = try study.run(chain)
        #expect(Set(rerun) == Set([left.first!, "b:sub-01", "b:sub-02", "b:sub-03", "c"]))
        #expect(try study.reasons(chain).isEmpty)
    }

    @Test func forceWithASelectionCoversOnlyTheSelection() throws {
        var study = try done(job)
        let ran = try study.run(job, force: ForceRequest(stages: ["realign"], only: ["realign:sub-03"]),
                                selection: (["realign:sub-03"], []))
        #expect(Set(ran) == ["realign:sub-03:ses-1", "realign:sub-03:ses-2", "realign:sub-03:ses-3"])
        #expect(try study.reasons(job) == ["first:sub-03": .upstreamRedone])
        var subjects = try done(job)
        let bySubject = try subjects.run(job, force: ForceRequest(stages: ["convert", "qa"], subjects: ["sub-02"]),
                                         selection: ([], ["sub-02"]))
        #expect(Set(bySubject) == ["convert:sub-02:ses-1", "realign:sub-02:ses-1", "first:sub-02", "qa:sub-02"])
    }

    @Test func removingOrAddingASubjectChangesTheStudyStagesInputs() throws {
        let withGroup = JobFixtures.job([("first", .subject, []), ("group", .study, [0])])
        let study = try done(withGroup)
        var fewer = withGroup
        fewer.subjects.removeLast()
        #expect(try study.reasons(fewer) == ["group": .inputsChanged])
        var more = withGroup
        more.subjects.append(Subject(name: "sub-04", sessions: ["ses-1"]))
        #expect(try study.reasons(more) == ["first:sub-04": .new, "group": .upstream])
        var renamed = withGroup
        renamed.subjects[2].name = "sub-09"
        #expect(try study.reasons(renamed) == ["first:sub-09": .new, "group": .upstream])
    }

    @Test func changingAfterChangesTheInputs() throws {
        let study = try done(job)
        var edited = job
        edited.stages[3].dependencies = [1]  // qa now after realign instead of convert
        #expect(try study.reasons(edited) == ["qa:sub-01": .inputsChanged, "qa:sub-02": .inputsChanged, "qa:sub-03": .inputsChanged])
    }

    @Test func failedAndSkippedEarlierRunAgain() throws {
        var study = try done(job)
        let attempt = JournalRecord.Attempt(instance: "qa:sub-01", attempt: 2, rank: 1, host: "h", time: 0)
        study.apply(.started(attempt))
        study.apply(.finished(attempt, .init(outcome: .exited(2), wallSeconds: 1, peakMemoryKiB: 0)))
        let stopped = JournalRecord.Attempt(instance: "qa:sub-03", attempt: 2, rank: 1, host: "h", time: 0)
        study.apply(.started(stopped))
        study.apply(.finished(stopped, .init(outcome: .interrupted, wallSeconds: 1, peakMemoryKiB: 0)))
        var fresh = StudySimulation()
        fresh.apply(.skipped(instance: "qa:sub-02", cause: "x", time: 0))
        #expect(try study.reasons(job) == ["qa:sub-01": .failedEarlier, "qa:sub-03": .unfinished])
        #expect(try fresh.reasons(job)["qa:sub-02"] == .skippedEarlier)
    }

    @Test func successWithoutLineageFromAnOlderVersionRunsAgain() throws {
        var study = StudySimulation()
        let only = JobFixtures.job([("a", .study, [])])
        let attempt = JournalRecord.Attempt(instance: "a", attempt: 1, rank: 1, host: "h", time: 0)
        study.apply(.started(attempt))
        study.apply(.finished(attempt, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 0)))
        #expect(try study.reasons(only) == ["a": .changed])
    }

    @Test func everyWorkerIsStoppedWhenNothingIsLeft() throws {
        let study = try done(job)
        let (plan, graph) = try study.plan(job)
        var scheduler = Scheduler(graph: graph, doneEarlier: plan.isDone)
        var actions: [SchedulerAction] = []
        for worker in 1...3 { actions += scheduler.workerJoined(WorkerID(worker), capacity: Capacity(cpus: 2, memory: 0)) }
        #expect(actions.filter { if case .stopWorker = $0 { true } else { false } }.count == 3)
        #expect(actions.filter { $0 == .finish }.count == 1)
    }

    @Test func schedulerSkipsWhatWasDoneEarlier() throws {
        var study = try done(job)
        study.apply(.started(.init(instance: "realign:sub-02:ses-1", attempt: 2, rank: 1, host: "h", time: 0)))
        let (plan, graph) = try study.plan(job)
        var scheduler = Scheduler(graph: graph, doneEarlier: plan.isDone)
        var running = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 8, memory: 0))
            .compactMap { if case .start(let id, _) = $0 { id } else { nil } }
        #expect(running.map(graph.name(of:)) == ["realign:sub-02:ses-1"])
        let next = scheduler.instanceFinished(running.removeFirst(), outcome: .succeeded)
        #expect(next.compactMap { if case .start(let id, _) = $0 { graph.name(of: id) } else { nil } } == ["first:sub-02"])
        #expect(scheduler.tallies[1].doneEarlier == 5)
    }

    /// What the plan lines, the progress total and the summary count.
    @Test func outlookWithinASelection() throws {
        var study = try done(job)
        var edited = job
        edited.stages[0].command = "convert --v2"
        study.apply(.runStarted(.init(jobHash: "j", host: "h", pid: 1, ranks: 1, time: 0)))
        let (plan, graph) = try study.plan(edited)
        let selection = try Selection(only: ["realign:sub-01", "convert:sub-02"], subjects: [], graph: graph)
        let outlook = RunOutlook(plan: plan, graph: graph, selection: selection)
        #expect(outlook.stages[0] == .init(name: "convert", toRun: [.runChanged: 1], outside: 5))
        #expect(outlook.stages[1] == .init(name: "realign", outside: 4, blocked: 2), "sub-01's convert is not selected")
        #expect(outlook.stages[2] == .init(name: "first", outside: 3))
        #expect(outlook.toRunCount == 1)
        #expect(RunOutlook(plan: plan, graph: graph).toRunCount == graph.instanceCount)
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
            // A script's `$stage:$subject:$session` with an empty session (a BIDS subject without any).
            _ = try Selection(only: ["realign:sub-01:"], subjects: [], graph: graph)
            Issue.record("an empty session part was accepted")
        } catch {
            #expect(error.description == "--only realign:sub-01:: an empty name part; a subject without sessions is named without one (realign:sub-01)")
        }
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
            let actions = scheduler.instanceFinished(instance, outcome: .succeeded)
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
