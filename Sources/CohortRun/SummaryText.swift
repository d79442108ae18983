import CohortCore

/// The end-of-run summary: per stage counts, then each failure with its log.
public enum SummaryText {
    /// Lines of failed attempts under "Done after retries".
    static let maximumRetriedLines = 20

    public static func render(_ summary: RunSummary) -> String {
        var lines: [String] = []
        let workers = summary.workers.count
        lines.append("")
        lines.append("Summary: study \(summary.study), \(format(summary.elapsedSeconds, decimals: 1)) s, \(workers) worker\(workers == 1 ? "" : "s")")
        let width = max(5, summary.stageNames.map(\.count).max() ?? 0)
        lines.append("  " + pad("stage", width, left: true) + "   done  earlier  failed  skipped  not run  total")
        var all = StageTally()
        for (name, tally) in zip(summary.stageNames, summary.tallies) {
            lines.append("  " + row(name, tally, width))
            all.total += tally.total
            all.succeeded += tally.succeeded
            all.doneEarlier += tally.doneEarlier
            all.failed += tally.failed
            all.skipped += tally.skipped
            all.unselected += tally.unselected
        }
        lines.append("  " + row("all", all, width))
        let measured = zip(summary.stageNames, summary.resources).filter { $0.1.attempts > 0 }
        if !measured.isEmpty {
            lines.append("")
            lines.append("  " + pad("stage", width, left: true) + "   wall median       max   memory median       max   attempts")
            for (name, used) in measured {
                lines.append("  " + pad(name, width, left: true)
                    + pad(duration(used.medianWallSeconds ?? 0, precise: true), 14) + pad(duration(used.maxWallSeconds ?? 0, precise: true), 10)
                    + pad(Quantity.describe(bytes: (used.medianPeakMemoryKiB ?? 0) * 1024), 16)
                    + pad(Quantity.describe(bytes: (used.maxPeakMemoryKiB ?? 0) * 1024), 10)
                    + pad(String(used.attempts), 11))
            }
            // GPU use: what the devices were held for (DESIGN §7).
            for (stage, (name, used)) in zip(summary.stageNames, summary.resources).enumerated()
            where stage < summary.stageGPUs.count && summary.stageGPUs[stage] > 0 && used.attempts > 0 {
                let gpus = summary.stageGPUs[stage]
                lines.append("  GPUs: \(name) held \(gpus) per instance, \(duration(used.totalWallSeconds * Double(gpus), precise: true)) of GPU time")
            }
        }
        if !summary.failures.isEmpty {
            lines.append("")
            lines.append("Failed (\(summary.failures.count)):")
            for group in groupedInOrder(summary.failures, by: \.signature) {
                if group.count > FailureGroup.listedInFull {
                    lines += alikeFailureLines(group, jobFile: summary.jobFile)
                    continue
                }
                for failure in group { lines += failureLines(failure, jobFile: summary.jobFile) }
            }
        }
        if !summary.drained.isEmpty {
            lines.append("")
            lines.append("Drained workers (\(summary.drained.count)): no more work went there; check those nodes")
            for drained in summary.drained {
                lines.append("  \(drained.worker.id) (\(drained.worker.host)): \(drained.reason)")
            }
        }
        if !summary.retried.isEmpty {
            lines.append("")
            lines.append("Done after retries (\(summary.retried.count)):")
            // Each failed attempt has a line, up to a screenful: a flaky stage in a big study would bury the rest.
            let attempts = summary.retried.flatMap { instance in instance.failedAttempts.map { (instance.name, $0) } }
            for (name, failed) in attempts.prefix(maximumRetriedLines) {
                lines.append("  \(name): attempt \(failed.attempt) \(failed.outcome.text): logs \(LogPaths.described(failed.logFolder))")
            }
            if attempts.count > maximumRetriedLines {
                lines.append("  ... and \(attempts.count - maximumRetriedLines) more failed attempts (`cohort report` draws every one)")
            }
        }
        if !summary.stuck.isEmpty {
            lines.append("")
            lines.append("Could not start (nothing else was running, so they never would):")
            for stage in summary.stuck { lines.append("  \(stage)") }
        }
        let notRun = all.total - all.succeeded - all.doneEarlier - all.failed - all.skipped - all.unselected
        if let signal = summary.stopSignal {
            lines.append("Stopped by \(StopSignals.name(signal)): \(notRun) not run; run the same command again to carry on.")
        } else if !summary.tooLongForAnyAllocation.isEmpty {
            for stage in summary.tooLongForAnyAllocation {
                lines.append("Stage \(stage.name) typically takes \(duration(stage.typicalSeconds)), more than this job's whole time limit allows (\(duration(stage.allocationSeconds)) before the stop signal): resubmitting cannot help; ask for more time (--time) or split the stage.")
            }
            lines.append("Stopped: \(notRun) not run.")
        } else if summary.heldForWalltime {
            lines.append("Stopped: too little walltime left for the rest; \(notRun) not run. Resubmit to carry on.")
        } else if summary.exitCode == 0 {
            if all.unselected > 0 {
                lines.append("Selection done: \(all.succeeded) ran now, \(all.doneEarlier) were done earlier, \(all.unselected) outside --only/--subjects left alone.")
            } else {
                lines.append("All \(all.total) instances done" + (all.doneEarlier > 0 ? " (\(all.doneEarlier) in earlier runs)." : "."))
            }
        } else {
            let outside = all.unselected > 0 ? ", \(all.unselected) outside --only/--subjects" : ""
            lines.append("Not all done: \(all.failed) failed, \(all.skipped) skipped, \(notRun) not run\(outside).")
            if all.unselected > 0 && notRun > 0 {
                lines.append("What did not run waits for instances outside the selection that are not done: select them too, or run without --only/--subjects.")
            }
        }
        return lines.joined(separator: "\n")
    }

    private static func row(_ name: String, _ tally: StageTally, _ width: Int) -> String {
        let notRun = tally.total - tally.succeeded - tally.doneEarlier - tally.failed - tally.skipped - tally.unselected
        return pad(name, width, left: true) + pad(String(tally.succeeded), 7) + pad(String(tally.doneEarlier), 9)
            + pad(String(tally.failed), 8) + pad(String(tally.skipped), 9) + pad(String(notRun), 9) + pad(String(tally.total), 7)
    }
}

/// One failure in full: where, why, its logs, how to rerun it, its last lines.
func failureLines(_ failure: FailureRecord, jobFile: String) -> [String] {
    let tries = failure.attempt > 1 ? " (attempt \(failure.attempt))" : ""
    var lines = ["  \(failure.name): \(failure.outcome.text)\(tries) on \(failure.worker.id) (\(failure.worker.host)) after \(format(failure.wallSeconds, decimals: 2)) s"]
    if let cause = failure.cause { lines.append("    cause: \(cause)") }
    lines.append("    logs: \(LogPaths.described(failure.logFolder))")
    for earlier in failure.earlierAttempts {
        lines.append("    attempt \(earlier.attempt) (\(earlier.outcome.text)): logs \(LogPaths.described(earlier.logFolder))")
    }
    // Commands to paste: paths quoted where they need it (spaces in a job's path).
    lines.append("    rerun just it: cohort run \(CommandTemplate.shellQuoted(jobFile)) --only \(CommandTemplate.shellQuoted(failure.name))")
    if case .couldNotStart = failure.outcome {} else {
        lines.append("    by hand, as the worker ran it: sh \(CommandTemplate.shellQuoted(failure.logFolder + "/rerun.sh"))")
    }
    for tail in LogExcerpt.lines(failure.logTail) { lines.append("    | \(tail)") }
    return lines
}

/// Many failures alike as one entry: a count, a few names, one log.
func alikeFailureLines(_ group: [FailureRecord], jobFile: String) -> [String] {
    // By name, so the same failures read the same whatever order they ended in.
    let group = group.sorted { $0.name < $1.name }
    let first = group[0]
    let names = group.prefix(3).map(\.name).joined(separator: ", ")
    let more = group.count > 3 ? " and \(group.count - 3) more" : ""
    var lines = ["  \(first.stage) × \(group.count): \(first.outcome.text) (\(names)\(more))"]
    if let cause = first.cause { lines.append("    cause: \(cause)") }
    lines.append("    logs of \(first.name): \(LogPaths.described(first.logFolder))")
    lines.append("    rerun them: cohort run \(jobFile) --only \(first.stage)")
    for tail in LogExcerpt.lines(first.logTail) { lines.append("    | \(tail)") }
    return lines
}
