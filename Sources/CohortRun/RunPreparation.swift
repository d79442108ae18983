public import CohortCore

/// What a run with these options would do, decided before anything runs:
/// `cohort run` acts on it, `cohort plan` prints it. Every check that
/// refuses a run is made here, so a plan that passes is a run that starts.
public struct RunPreparation: Sendable {
    public let selection: Selection
    /// `--force` stages, in the job's order.
    public let forcedStages: [String]
    /// How each instance is defined now (module scripts read).
    public let definitions: Definitions
    /// Located warnings for stderr (module scripts Cohort cannot name).
    public let warnings: [String]
}

/// What the journal makes of a prepared run: its `--force` request (nil
/// when none, or when the journal holds it already), the plan and outlook.
public struct RunIntent: Sendable {
    public let force: ForceRequest?
    /// The history with the force applied: what the plan was made from.
    public let history: JournalHistory
    public let plan: ResumePlan
    public let outlook: RunOutlook
    /// Said before the run: a `--force` request completed, not repeated;
    /// subjects that appeared or went since the last run.
    public let notes: [String]
    /// The study tree as the run journals it at its start (nil: as recorded).
    public let treeChange: StudyTreeChange?
    /// How each instance is defined, over the graph with its journaled items.
    public let definitions: Definitions
}

extension Study {
    /// Every check `cohort run` makes before it takes the lock: the
    /// selection, `--force` stages, module scripts and the workdir (created
    /// when `createWorkdir` and nothing else is wrong). Throws the message
    /// the user reads.
    public func prepare(_ options: RunOptions, createWorkdir: Bool) throws(RunRefused) -> RunPreparation {
        let selection: Selection
        do {
            selection = try Selection(only: options.only, subjects: options.subjects, graph: graph)
        } catch {
            throw RunRefused(description: "cohort: \(error)")
        }
        let forced = try forcedStages(options.forcedStages, selection: selection)
        let problems = problemsBeforeRunning(createWorkdir: createWorkdir)
        if !problems.isEmpty { throw RunRefused(description: problems.joined(separator: "\n")) }
        let warnings = datasetWarnings + untrackedScriptWarnings
        do {
            return RunPreparation(selection: selection, forcedStages: forced, definitions: try definitions(), warnings: warnings)
        } catch {
            throw RunRefused(description: "cohort: \(error); nothing ran")
        }
    }

    /// The plan of a prepared run against the journal's `history`. A
    /// `--force-id` the journal holds already completes that request instead
    /// of forcing again; the same id for a different request is refused.
    public func intent(of preparation: RunPreparation, _ options: RunOptions, history: JournalHistory) throws(RunRefused) -> RunIntent {
        if let unlisted = preparation.selection.unlistedItem(in: graph, watching: history.watching)
            ?? preparation.selection.itemsNotListedYet(in: graph) {
            throw RunRefused(description: "cohort: \(unlisted)")
        }
        var history = history
        var notes: [String] = []
        var force = preparation.forcedStages.isEmpty ? nil
            : ForceRequest(stages: preparation.forcedStages, only: options.only, subjects: options.subjects, id: options.forceID)
        if let request = force, let id = request.id, let earlier = history.forcesByID[id] {
            // A requeued job or a resubmission repeating its arguments.
            guard earlier == request else {
                throw RunRefused(description: "cohort: --force-id \(id) names an earlier, different request (--force \(earlier.stages.joined(separator: ","))); give this one a new id")
            }
            notes.append("cohort: --force request \(id) is in the journal already: completing it, not forcing again")
            force = nil
        }
        if let force { history.apply(.forced(force, time: epochSeconds())) }
        let treeChange = StudyTreeChange.between(recorded: history.studyTree, now: job.subjects, source: job.subjectSource.word,
                                                 time: epochSeconds())
        // Not on a first run, nor on the first of this version: everything would be "new".
        if history.studyTree != nil, let summary = treeChange?.summary { notes.append("cohort: " + summary) }
        let definitions = preparation.definitions.withGraph(graph)
        let plan = plan(history: history, definitions: definitions)
        return RunIntent(force: force, history: history, plan: plan,
                         outlook: RunOutlook(plan: plan, graph: graph, selection: preparation.selection), notes: notes,
                         treeChange: treeChange, definitions: definitions)
    }

    /// `--force` stages in the job's order; each must exist and have a selected instance.
    private func forcedStages(_ names: [String], selection: Selection) throws(RunRefused) -> [String] {
        var forced: Set<Int> = []
        for name in names {
            guard let index = job.stageIndex(named: name) else {
                throw RunRefused(description: "cohort: --force \(name): no such stage; stages are \(job.stages.map(\.name).joined(separator: ", "))")
            }
            forced.insert(index)
            // A foreach stage's instances are not known yet (its items are listed later): its generators stand for them.
            let standing = job.stages[index].foreach.map { graph.instances(ofStage: $0) } ?? graph.instances(ofStage: index)
            let selected = selection.patterns.contains { $0.stage == index }
                || standing.contains { selection.contains(InstanceID($0), in: graph) }
            if !selected {
                throw RunRefused(description: "cohort: --force \(name): no instance of it is selected (--only/--subjects); nothing would be forced")
            }
        }
        return job.stages.indices.filter(forced.contains).map { job.stages[$0].name }
    }
}

extension Study {
    /// `cohort plan`: what `cohort run` with these options would do now and
    /// why, from the journal as it stands. Takes no lock and creates
    /// nothing; refuses (throws) exactly what the run would refuse.
    public func planReport(_ options: RunOptions, instances: Bool) throws(RunRefused) -> (text: String, warnings: [String]) {
        let preparation = try prepare(options, createWorkdir: false)
        let history = history() ?? JournalHistory()
        var study = self
        study.listItems(from: history)
        return try study.planReport(preparation, options, history: history, instances: instances)
    }

    private func planReport(_ preparation: RunPreparation, _ options: RunOptions, history: JournalHistory,
                            instances: Bool) throws(RunRefused) -> (text: String, warnings: [String]) {
        let intent = try intent(of: preparation, options, history: history)
        var lines = intent.notes
        for (line, reason) in history.damaged { lines.append("warning: \(state.journal):\(line): record ignored: \(reason)") }
        var live = false
        if case .live(let note) = runState(history: history) {
            live = true
            lines.append("a run holds the study now (\(note.isEmpty ? "holder unknown" : note)): this is the plan of the journal as it stands")
        }
        lines.append(PlanText.render(intent, graph: graph, selection: preparation.selection, instances: instances, live: live))
        return (lines.joined(separator: "\n"), preparation.warnings)
    }
}
