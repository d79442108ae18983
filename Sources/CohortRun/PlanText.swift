public import CohortCore

/// A run's outlook as lines, per stage: what is done, what runs and why,
/// what the selection leaves alone (the resume lines and `cohort plan`).
public enum PlanText {
    public static func lines(_ outlook: RunOutlook) -> [String] {
        outlook.stages.map { stage in
            let reasons = ResumePlan.Reason.allCases.compactMap { reason in
                stage.toRun[reason].map { "\($0) \(reason.rawValue)" }
            }
            var line = "\(stage.name): \(stage.done) done earlier, \(stage.toRunCount) to run"
            if !reasons.isEmpty { line += " (" + reasons.joined(separator: ", ") + ")" }
            if stage.outside > 0 { line += ", \(stage.outside) outside the selection" }
            if stage.blocked > 0 { line += ", \(stage.blocked) waiting for instances outside the selection" }
            return line
        }
    }

    /// `cohort plan`: the totals, the stage lines, and with `instances`
    /// one line per selected instance (`NAME  WHAT`), in the graph's order.
    /// `live`: a run holds the study now, so what it left unfinished is running.
    public static func render(_ intent: RunIntent, graph: InstanceGraph, selection: Selection, instances: Bool, live: Bool = false) -> String {
        let outlook = intent.outlook
        let done = intent.plan.doneCount
        var lines = ["study \(graph.job.study): \(graph.instanceCount) instances: \(done) done, \(outlook.toRunCount) to run"
                     + (graph.instanceCount - done - outlook.toRunCount > 0 ? ", \(graph.instanceCount - done - outlook.toRunCount) left alone" : "")]
        lines += Self.lines(outlook).map { "  " + $0 }
        guard instances else { return lines.joined(separator: "\n") }
        let width = min(60, (0..<graph.instanceCount).lazy.map { graph.name(of: InstanceID($0)).count }.max() ?? 0)
        for index in 0..<graph.instanceCount {
            let instance = InstanceID(index)
            let name = graph.name(of: instance)
            // With --only/--subjects, the lines are of the selected instances.
            guard selection.contains(instance, in: graph) else { continue }
            let what: String
            if let reason = intent.plan.reasons[index] {
                let said = live && reason == .unfinished ? "running now (or cut short)" : word(reason)
                what = outlook.blocked.contains(instance) ? "waits for an instance outside the selection (\(said))" : said
            } else {
                what = "done"
            }
            lines.append("  " + name + String(repeating: " ", count: max(1, width + 2 - name.count)) + what)
        }
        return lines.joined(separator: "\n")
    }

    /// The reason as `cohort plan` names it per instance.
    public static func word(_ reason: ResumePlan.Reason) -> String {
        switch reason {
        case .runChanged: "changed: run line"
        case .scriptChanged: "changed: script"
        case .setupChanged: "changed: setup"
        case .environmentChanged: "changed: env"
        case .changed: "changed: made by an older cohort"
        case .inputsChanged: "changed: inputs"
        case .upstreamRedone: "changed: upstream redone"
        case .new, .failedEarlier, .unfinished, .skippedEarlier, .upstream, .forced, .watching: reason.rawValue
        }
    }
}
