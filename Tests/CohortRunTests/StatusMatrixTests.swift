import CohortCore
import CohortRun
import CohortTesting
import Testing

/// The subject × stage matrix, folded, unfolded and at 1,000 subjects.
@Suite struct StatusMatrixTests {
    /// A job of `subjects` subjects (two sessions each) whose journal says `failed` failed `prep`.
    func status(subjects: Int, failed: [String]) throws -> (StudyStatus, InstanceGraph) {
        let names = (1...subjects).map { "sub-\($0)" }
        let job = JobFixtures.job([("prep", .session, []), ("model", .subject, [0]), ("group", .study, [1])],
                                  subjects: names.map { Subject(name: $0, sessions: ["a", "b"]) })
        let graph = try InstanceGraph(job: job)
        var history = JournalHistory()
        for subject in failed {
            let attempt = JournalRecord.Attempt(instance: "prep:\(subject):b", attempt: 1, rank: 1, host: "n1", time: 1)
            history.apply(.started(attempt))
            history.apply(.finished(attempt, .init(outcome: .exited(2), wallSeconds: 1, peakMemoryKiB: 10)))
        }
        let plan = ResumePlan(graph: graph, history: history, definitions: Definitions(graph: graph))
        return (StudyStatus(graph: graph, history: history, plan: plan, runIsLive: false), graph)
    }

    @Test func sessionsFoldIntoTheirSubjectAndUnfoldOnRequest() throws {
        let (status, graph) = try status(subjects: 3, failed: ["sub-2"])
        let folded = StatusMatrix.lines(status, graph: graph, options: .init())
        #expect(folded.contains("  sub-1  .."))
        #expect(folded.contains("  sub-2  X."), "\(folded)")
        #expect(folded.contains("  columns: 1 prep, 2 model"))
        #expect(folded.contains("  study: group ."))
        let unfolded = StatusMatrix.lines(status, graph: graph, options: .init(sessions: true))
        #expect(unfolded.contains("  sub-2/a  .."), "\(unfolded)")
        #expect(unfolded.contains("  sub-2/b  X."))
    }

    @Test func aThousandSubjectsShowTheRowsNeedingAttentionFirst() throws {
        let (status, graph) = try status(subjects: 1000, failed: ["sub-500", "sub-999"])
        let lines = StatusMatrix.lines(status, graph: graph, options: .init())
        let rows = lines.filter { $0.hasPrefix("  sub-") }
        #expect(rows.count == 40, "a page, not a thousand lines")
        for failed in ["sub-500", "sub-999"] {
            #expect(rows.contains { $0.hasPrefix("  \(failed) ") && $0.hasSuffix("  X.") }, "the failed subjects are shown: \(rows)")
        }
        #expect(rows.prefix(2).allSatisfy { $0.hasSuffix("  X.") }, "rows needing attention most come first: \(rows.prefix(3))")
        #expect(lines.contains("  ... 960 more rows; --all shows every one"), "\(lines.suffix(4))")
        let all = StatusMatrix.lines(status, graph: graph, options: .init(allRows: true))
        #expect(all.filter { $0.hasPrefix("  sub-") }.count == 1000)
    }

    /// Item stages (DESIGN §8): a session's items fold into its cell; a
    /// session whose generator has not listed yet shows the generator's state,
    /// one that listed nothing has nothing left to do.
    @Test func itemsFoldIntoTheirSessionsCell() throws {
        let job = try JobLoader.load(text: JobFixtures.itemJob, file: "job.yml")
        var graph = try InstanceGraph(job: job)
        func instance(_ name: String) -> InstanceID {
            (0..<graph.instanceCount).map(InstanceID.init).first { graph.name(of: $0) == name }!
        }
        for (name, items) in [("import:g1:s1", ["a", "b"]), ("import:g1:s2", []), ("all", ["x"])] { graph.list(items, by: instance(name)) }
        let definitions = Definitions(graph: graph)
        var lineage = RunLineage(plan: ResumePlan(graph: graph, history: JournalHistory(), definitions: definitions),
                                 definitions: definitions, runID: "r1")
        var history = JournalHistory()
        func attempt(_ name: String, _ outcome: AttemptOutcome) {
            let record = JournalRecord.Attempt(instance: name, attempt: 1, rank: 1, host: "n1", time: 1)
            history.apply(.started(record))
            history.apply(.finished(record, .init(outcome: outcome, wallSeconds: 1, peakMemoryKiB: 1,
                                                  lineage: outcome.succeeded ? lineage.succeeded(instance(name), attempt: 1) : nil)))
        }
        for name in ["import:g1:s1", "import:g1:s2", "mc:g1:s1:a", "all"] { attempt(name, .succeeded) }
        attempt("mc:g1:s1:b", .exited(1))
        let plan = ResumePlan(graph: graph, history: history, definitions: Definitions(graph: graph))
        let status = StudyStatus(graph: graph, history: history, plan: plan, runIsLive: false)
        let unfolded = StatusMatrix.lines(status, graph: graph, options: .init(sessions: true))
        #expect(unfolded.contains("  g1/s1  #X"), "b failed: \(unfolded)")
        #expect(unfolded.contains("  g1/s2  ##"), "listed nothing: nothing to do")
        #expect(unfolded.contains("  g2/s1  .."), "not listed yet: as its generator")
        #expect(StatusMatrix.lines(status, graph: graph, options: .init()).contains("  g1  #X"))
        #expect(unfolded.contains("  study: all #, each ."), "a study generator's item is pending: \(unfolded)")
    }

    @Test func aSubjectWithoutSessionsKeepsItsRowWithBlankSessionCells() throws {
        let job = JobFixtures.job([("prep", .session, []), ("model", .subject, [])],
                                  subjects: [Subject(name: "s1", sessions: ["a"]), Subject(name: "s2", sessions: [])])
        let graph = try InstanceGraph(job: job)
        let plan = ResumePlan(graph: graph, history: JournalHistory(), definitions: Definitions(graph: graph))
        let status = StudyStatus(graph: graph, history: JournalHistory(), plan: plan, runIsLive: false)
        #expect(StatusMatrix.lines(status, graph: graph, options: .init()).contains("  s2   ."), "no session: a blank, not done")
        #expect(StatusMatrix.lines(status, graph: graph, options: .init(sessions: true)).contains("  s2     ."), "unfolded too")
    }

    /// What the last run's --only/--subjects left alone reads as not selected, not pending.
    @Test func whatTheLastRunLeftAloneIsNotSelected() throws {
        let job = JobFixtures.job([("prep", .subject, []), ("model", .subject, [0])],
                                  subjects: [Subject(name: "s1", sessions: []), Subject(name: "s2", sessions: [])])
        let graph = try InstanceGraph(job: job)
        var history = JournalHistory()
        let start = JournalRecord.RunStart(jobHash: "h", host: "n", pid: 1, ranks: 1, time: 1, only: ["prep"], subjects: ["s2"])
        let encoded = JournalFormat.encode(.runStarted(start))
        #expect(try JournalFormat.decode(encoded.dropLast()) == .runStarted(start), "the selection is journaled with the run")
        history.apply(.runStarted(start))
        let plan = ResumePlan(graph: graph, history: history, definitions: Definitions(graph: graph))
        let selection = try Selection(only: start.only, subjects: start.subjects, graph: graph)
        let status = StudyStatus(graph: graph, history: history, plan: plan, runIsLive: false, lastSelection: selection)
        let lines = StatusMatrix.lines(status, graph: graph, options: .init())
        #expect(lines.contains("  s1  __"), "\(lines)")
        #expect(lines.contains("  s2  ._"), "prep:s2 was selected and is still to do")
    }
}
