import CohortCore
@testable import CohortRun
import Testing

/// The summary stays readable when many attempts were retried.
@Suite struct SummaryTextTests {
    @Test func retriedAttemptsAreListedUpToAScreenful() {
        var tally = StageTally()
        tally.total = 500
        tally.succeeded = 500
        let retried = (0..<500).map { index in
            RetriedInstance(name: "fit:s\(index)", failedAttempts: [FailedAttempt(attempt: 1, outcome: .exited(1), logFolder: "/out/fit/s\(index)/1")])
        }
        let summary = RunSummary(study: "s", stageNames: ["fit"], tallies: [tally], failures: [], retried: retried,
                                 elapsedSeconds: 1, workers: [], jobFile: "job.yml")
        let lines = SummaryText.render(summary).split(separator: "\n").map(String.init)
        #expect(lines.contains("Done after retries (500):"))
        #expect(lines.filter { $0.hasPrefix("  fit:s") }.count == SummaryText.maximumRetriedLines)
        #expect(lines.contains("  ... and 480 more failed attempts (`cohort report` draws every one)"))
    }
}
