public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Progress as plain lines, one per finished instance, fit for batch logs;
/// then the summary (DESIGN §5, §6).
public final class PlainReporter: RunReporter {
    private let clock: () -> Double
    private var start = 0.0

    public init(clock: @escaping () -> Double = monotonicSeconds) {
        self.clock = clock
    }

    private func stamp() -> String {
        "[\(pad(format(clock() - start, decimals: 2) + "s", 9))]"
    }

    public func runStarted(study: String, instances: Int, workers: [WorkerInfo]) {
        start = clock()
        let described = workers.map { worker in
            let labels = worker.profile.labels.subtracting([WorkerPolicy.rankZeroLabel]).sorted()
            let labelText = labels.isEmpty ? "" : ", labels " + labels.joined(separator: ",")
            return "\(worker.id) on \(worker.host) (\(worker.capacity)\(labelText)\(worker.profile.exclusive ? ", on: rank0 stages only" : ""))"
        }.joined(separator: "; ")
        emit("cohort: study \(study): \(instances) instance\(instances == 1 ? "" : "s") on \(workers.count) worker\(workers.count == 1 ? "" : "s"): \(described)")
    }

    public func instanceStarted(_ name: String, on worker: WorkerInfo) {}

    public func instanceFinished(_ name: String, report: TaskReport, on worker: WorkerInfo, interrupted: Bool, finished: Int, total: Int) {
        let progress = "\(finished)/\(total)"
        if report.outcome.succeeded {
            emit("\(stamp()) done    \(name)  \(worker.id)  \(format(report.wallSeconds, decimals: 2))s  \(progress)")
        } else if interrupted {
            emit("\(stamp()) stopped \(name)  \(worker.id)  (will run again next time)")
        } else {
            emit("\(stamp()) FAILED  \(name)  \(worker.id)  \(report.outcome.text)  \(progress)")
        }
    }

    public func instanceSkipped(_ name: String, because cause: String) {
        emit("\(stamp()) skipped \(name)  (\(cause) failed)")
    }

    public func instanceRetrying(_ name: String, retry: Int, of retries: Int, attempt: Int) {
        emit("\(stamp()) retry   \(name)  retry \(retry) of \(retries) (attempt \(attempt) over every run)")
    }

    public func workerDied(_ worker: WorkerInfo) {
        emit("\(stamp()) died    \(worker.id) on \(worker.host) (pid \(worker.pid)): a worker rank died, so mpirun ends the job; every success is in the journal, run the same command again to carry on")
    }

    public func workerDrained(_ worker: WorkerInfo, reason: String) {
        emit("\(stamp()) drained \(worker.id) (\(worker.host)): \(reason); it gets no more work, the run goes on with the others")
    }

    public func stopping(signal: String) {
        emit("\(stamp()) \(signal): stopping; running modules are being terminated and recorded as interrupted")
    }

    public func holding(stage: String, typicalSeconds: Double, secondsLeft: Double) {
        emit("\(stamp()) holding \(stage): it typically takes \(duration(typicalSeconds)), only \(duration(secondsLeft)) left in this allocation; not starting it")
    }

    public func runFinished(_ summary: RunSummary) {
        emit(SummaryText.render(summary))
    }

    /// What a new run skips and reruns, per stage, and why (DESIGN §5).
    public func planned(_ outlook: RunOutlook, history: JournalHistory, journalPath: String) {
        for (line, reason) in history.damaged {
            emit("cohort: warning: \(journalPath):\(line): record ignored: \(reason)")
        }
        guard history.runs > 0 else { return }
        emit("cohort: resuming from \(journalPath) (\(history.runs) earlier run\(history.runs == 1 ? "" : "s"))")
        for line in PlanText.lines(outlook) { emit("  " + line) }
    }

    public func problem(_ text: String) {
        writeAll(STDERR_FILENO, text + "\n")
    }

    public func note(_ text: String) {
        emit(text)
    }

    /// One write(2) per line: batch logs see each line when it happens.
    private func emit(_ line: String) {
        writeAll(STDOUT_FILENO, line + "\n")
    }
}

/// The end-of-run summary: per stage counts, then each failure with its log.
public enum SummaryText {
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
        }
        if !summary.failures.isEmpty {
            lines.append("")
            lines.append("Failed (\(summary.failures.count)):")
            for failure in summary.failures {
                let tries = failure.attempt > 1 ? " (attempt \(failure.attempt))" : ""
                lines.append("  \(failure.name): \(failure.outcome.text)\(tries) on \(failure.worker.id) (\(failure.worker.host)) after \(format(failure.wallSeconds, decimals: 2)) s")
                lines.append("    logs: \(failure.logFolder)/stderr.log, stdout.log")
                for earlier in failure.earlierAttempts {
                    lines.append("    attempt \(earlier.attempt) (\(earlier.outcome.text)): \(earlier.logFolder)/stderr.log, stdout.log")
                }
                lines.append("    rerun just it: cohort run \(summary.jobFile) --only \(failure.name)")
                for tail in LogExcerpt.lines(failure.logTail) {
                    lines.append("    | \(tail)")
                }
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
            for instance in summary.retried {
                for failed in instance.failedAttempts {
                    lines.append("  \(instance.name): attempt \(failed.attempt) \(failed.outcome.text): \(failed.logFolder)/stderr.log, stdout.log")
                }
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

/// `1h02m`, `5m30s`, `42s` (`0.35s` below ten seconds when `precise`).
func duration(_ seconds: Double, precise: Bool = false) -> String {
    if precise && seconds < 10 { return format(max(0, seconds), decimals: 2) + "s" }
    let total = Int(max(0, seconds.rounded()))
    func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
    if total >= 3600 { return "\(total / 3600)h\(twoDigits(total % 3600 / 60))m" }
    if total >= 60 { return "\(total / 60)m\(twoDigits(total % 60))s" }
    return "\(total)s"
}

func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + padding : padding + text
}

func format(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "?" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = abs(scaled % Int64(scale))
    guard decimals > 0 else { return String(whole) }
    let digits = String(fraction)
    return "\(scaled < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: decimals - digits.count))\(digits)"
}
