public import CohortCore

/// The subject × stage matrix of `cohort status`: one character per cell,
/// a subject's sessions folded into one cell (the most urgent shows), one
/// row per session on request; at 1,000 subjects the rows needing
/// attention come first and the rest are counted.
public enum StatusMatrix {
    /// Column keys: a stage per character.
    static let keys = Array("123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    public static func lines(_ status: StudyStatus, graph: InstanceGraph, options: StatusText.MatrixOptions) -> [String] {
        let job = graph.job
        let columns = job.stages.indices.filter { job.stages[$0].domain != .study }
        guard !columns.isEmpty, !job.subjects.isEmpty else { return studyLine(status, graph: graph, columns: columns) }
        let legend = StudyStatus.Cell.allCases.map { "\($0.character) \($0.word)" }.joined(separator: ", ")
        var lines = ["", "Subjects × stages (\(legend)\(options.sessions ? "" : "; a subject's sessions folded, --sessions unfolds")):"]
        let rows = rows(status, graph: graph, columns: columns, sessions: options.sessions)
        let nameWidth = min(40, rows.map(\.name.count).max() ?? 0)
        let header = String(columns.indices.map { keys[$0 % keys.count] })
        lines.append("  " + pad("", nameWidth, left: true) + "  " + header)
        var shown = rows
        if !options.allRows && rows.count > options.rowLimit {
            // Failed, then running, then pending rows, and shown so; within each, the job's order.
            shown = rows.enumerated().sorted { ($0.element.urgency, -$0.offset) > ($1.element.urgency, -$1.offset) }
                .prefix(options.rowLimit).map(\.element)
        }
        for row in shown { lines.append("  " + pad(row.name, nameWidth, left: true) + "  " + row.cells) }
        if shown.count < rows.count {
            let hidden = rows.count - shown.count
            let allDone = rows.filter { $0.urgency == 0 }.count - shown.filter { $0.urgency == 0 }.count
            let done = allDone == 0 ? "" : allDone == hidden ? " (all done)" : " (\(allDone) of them all done)"
            lines.append("  ... \(hidden) more row\(hidden == 1 ? "" : "s")\(done); --all shows every one")
        }
        lines.append("  columns: " + columns.enumerated().map { "\(keys[$0.offset % keys.count]) \(job.stages[$0.element].name)" }.joined(separator: ", "))
        return lines + studyLine(status, graph: graph, columns: columns)
    }

    struct Row {
        var name: String
        var cells: String
        /// The most urgent cell's urgency: which rows to show first.
        var urgency: Int
    }

    static func rows(_ status: StudyStatus, graph: InstanceGraph, columns: [Int], sessions: Bool) -> [Row] {
        let job = graph.job
        var rows: [Row] = []
        var sessionIndex = 0
        for (subject, entry) in job.subjects.enumerated() {
            let sessionRange = sessionIndex..<sessionIndex + entry.sessions.count
            sessionIndex += entry.sessions.count
            // A subject without sessions keeps its row; its session stages have no cell there.
            let groups: [(String, Range<Int>)] = sessions && !sessionRange.isEmpty
                ? sessionRange.map { session in
                    let name = graph.sessionName(session)
                    return (name.isEmpty ? entry.name : "\(entry.name)/\(name)", session..<session + 1)
                }
                : [(entry.name, sessionRange)]
            for (name, range) in groups {
                let cells = columns.map { stage -> StudyStatus.Cell? in
                    if let generator = job.stages[stage].foreach {
                        let base = graph.instances(ofStage: generator).lowerBound
                        let generators = job.stages[stage].domain == .subject ? base + subject..<base + subject + 1
                            : base + range.lowerBound..<base + range.upperBound
                        return itemCell(status, graph: graph, stage: stage, generators: generators)
                    }
                    let base = graph.instances(ofStage: stage).lowerBound
                    switch job.stages[stage].domain {
                    case .subject: return status.cells[base + subject]
                    case .session:
                        // Folded as `Cell.folded` does, without an array per cell (a matrix of 10^5 rows).
                        var shown: StudyStatus.Cell?
                        for index in range where shown.map({ status.cells[base + index].urgency > $0.urgency }) ?? true {
                            shown = status.cells[base + index]
                        }
                        return shown
                    case .study: return status.cells[base]
                    }
                }
                let urgency = cells.compactMap { $0?.urgency }.max() ?? 0
                rows.append(Row(name: name, cells: String(cells.map { $0?.character ?? " " }), urgency: urgency))
            }
        }
        return rows
    }

    /// Study-level stages have one instance each: one line for them all.
    static func studyLine(_ status: StudyStatus, graph: InstanceGraph, columns: [Int]) -> [String] {
        let studyStages = graph.job.stages.indices.filter { !columns.contains($0) }
        guard !studyStages.isEmpty else { return [] }
        let cells = studyStages.map { stage in
            let cell = graph.job.stages[stage].foreach.flatMap { generator in
                let base = graph.instances(ofStage: generator).lowerBound
                return itemCell(status, graph: graph, stage: stage, generators: base..<base + 1)
            } ?? status.cells[graph.instances(ofStage: stage).lowerBound]
            return "\(graph.job.stages[stage].name) \(cell.character)"
        }
        return ["  study: " + cells.joined(separator: ", ")]
    }

    /// A foreach stage's cell (DESIGN §8): the items of `generators` at the
    /// row's coordinates, folded. A generator that has not listed yet shows
    /// as itself (its items are not known; a watching one with items
    /// shows its items); one that listed nothing leaves nothing to do (done).
    static func itemCell(_ status: StudyStatus, graph: InstanceGraph, stage: Int, generators: Range<Int>) -> StudyStatus.Cell? {
        guard !generators.isEmpty else { return nil }
        var shown: StudyStatus.Cell?
        func consider(_ cell: StudyStatus.Cell) {
            if shown.map({ cell.urgency > $0.urgency }) ?? true { shown = cell }
        }
        for generator in generators {
            if status.cells[generator] != .done && !graph.hasListed(InstanceID(generator), forStage: stage) {
                consider(status.cells[generator])
            }
            for range in graph.itemInstances(ofStage: stage, generator: InstanceID(generator)) {
                for index in range { consider(status.cells[index]) }
            }
        }
        return shown ?? .done
    }
}
