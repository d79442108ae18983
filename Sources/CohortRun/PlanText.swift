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
}
