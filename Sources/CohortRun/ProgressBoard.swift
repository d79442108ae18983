import CohortCore

/// How a run shows its progress (DESIGN §6).
public enum ProgressMode: String, Sendable, CaseIterable {
    /// `block` on a terminal, `periodic` otherwise (a batch log).
    case auto
    /// A block redrawn in place: per stage and overall, elapsed and ETA;
    /// failures printed above it as they happen.
    case block
    /// One line per failure and a compact progress line at an interval.
    case periodic
    /// One line per finished instance (and the periodic line too).
    case lines
}

/// This run's counts per stage, for the live progress: done, running,
/// failed and skipped of what this run will try, and an ETA from the
/// durations measured so far (this run's, else the journal's).
struct ProgressBoard {
    struct Row {
        var name: String
        var total = 0
        var done = 0
        var running = 0
        var failed = 0
        var skipped = 0
        /// Wall seconds of this run's successes.
        var durations: [Double] = []
        /// The journal's median for the stage, from earlier runs.
        var earlierMedian: Double?
        /// Cpus one instance holds.
        var cpus = 1

        var left: Int { max(0, total - done - failed - skipped) }
    }

    var rows: [Row] = []
    /// Cpus of every worker: how much runs at once.
    var cpus = 1
    private var index: [String: Int] = [:]

    init() {}

    init(outlook: RunOutlook, earlierMedians: [Double?], cpus stageCpus: [Int] = []) {
        rows = outlook.stages.enumerated().map { offset, stage in
            Row(name: stage.name, total: stage.toRunCount, earlierMedian: offset < earlierMedians.count ? earlierMedians[offset] : nil,
                cpus: offset < stageCpus.count ? max(1, stageCpus[offset]) : 1)
        }
        for (offset, row) in rows.enumerated() { index[row.name] = offset }
    }

    /// The row found last: instances of one stage tend to come together,
    /// and at tens of thousands a second the name's hash shows.
    private var lastRow = 0

    private mutating func row(of instance: String) -> Int? {
        let stage = instance.utf8.prefix { $0 != UInt8(ascii: ":") }
        if lastRow < rows.count, rows[lastRow].name.utf8.elementsEqual(stage) { return lastRow }
        guard let found = index[String(Substring(stage))] else { return nil }
        lastRow = found
        return found
    }

    mutating func started(_ instance: String) {
        if let row = row(of: instance) { rows[row].running += 1 }
    }

    mutating func finished(_ instance: String, outcome: AttemptOutcome, wallSeconds: Double) {
        guard let row = row(of: instance) else { return }
        rows[row].running = max(0, rows[row].running - 1)
        if outcome.succeeded {
            rows[row].done += 1
            rows[row].durations.append(wallSeconds)
        } else if outcome.isFailure {
            rows[row].failed += 1
        }
    }

    /// The failure just counted is retried: not final after all.
    mutating func retrying(_ instance: String) {
        if let row = row(of: instance) { rows[row].failed = max(0, rows[row].failed - 1) }
    }

    /// Work found during the run: items listed, a watch's next look.
    mutating func added(_ count: Int, toStage name: String) {
        if let row = index[name] { rows[row].total += count }
    }

    mutating func skipped(_ instance: String) {
        if let row = row(of: instance) { rows[row].skipped += 1 }
    }

    var total: Row {
        rows.reduce(into: Row(name: "all")) { sum, row in
            sum.total += row.total
            sum.done += row.done
            sum.running += row.running
            sum.failed += row.failed
            sum.skipped += row.skipped
        }
    }

    /// Seconds until what is left is done, if any duration is known: each
    /// stage's work left at its typical duration, spread over every cpu.
    var eta: Double? {
        let known = rows.compactMap(typical)
        guard !known.isEmpty else { return nil }
        let fallback = known.sorted()[known.count / 2]
        // A stage's instance occupies its `cpus:` for its duration.
        let work = rows.reduce(0.0) { $0 + Double($1.left * $1.cpus) * (typical($1) ?? fallback) }
        let longest = rows.filter { $0.left > 0 }.map { typical($0) ?? fallback }.max() ?? 0
        return max(work / Double(max(1, cpus)), longest)
    }

    private func typical(_ row: Row) -> Double? {
        StageResources.median(row.durations) ?? row.earlierMedian
    }

    /// `progress: 12 of 31 done, 3 running, 1 failed, 0 skipped; ETA 2m10s`
    func line() -> String {
        let all = total
        return "progress: \(all.done) of \(all.total) done, \(all.running) running, \(all.failed) failed, \(all.skipped) skipped; ETA \(eta.map { duration($0) } ?? "unknown")"
    }

    /// The redrawn block: elapsed and ETA, a bar and counts per stage with
    /// work in this run, then the whole run.
    /// Fits `columns` × `lines` of the screen: longer lines are cut (a
    /// wrapped line would break the redraw), and with more stages than
    /// lines those with work left come first.
    func block(elapsed: Double, columns: Int = .max, lines maxLines: Int = .max) -> [String] {
        var shown = rows.filter { $0.total > 0 }
        if shown.count + 2 > maxLines {
            let unfinished = shown.filter { $0.left > 0 || $0.running > 0 }
            shown = Array((unfinished + shown.filter { $0.left == 0 && $0.running == 0 }).prefix(max(0, maxLines - 2)))
        }
        let width = max(5, shown.map(\.name.count).max() ?? 0)
        let all = total
        let digits = String(all.total).count
        var lines = shown.map { row in
            "  " + pad(row.name, width, left: true) + "  " + bar(row) + "  " + counts(row, digits: digits)
        }
        lines.append("  " + pad("all", width, left: true) + "  " + bar(all) + "  " + counts(all, digits: digits))
        // Times on a line of their own: the rows stay narrow enough for 80 columns.
        lines.insert("  elapsed \(duration(elapsed)), ETA \(eta.map { duration($0) } ?? "unknown")", at: 0)
        return lines.map { $0.count < columns ? $0 : String($0.prefix(max(1, columns - 1))) }
    }

    private func counts(_ row: Row, digits: Int) -> String {
        pad("\(row.done)/\(row.total)", 2 * digits + 1) + " done, " + pad(String(row.running), digits) + " running, "
            + pad(String(row.failed), digits) + " failed, " + pad(String(row.skipped), digits) + " skipped"
    }

    /// `[#######-------------]`: done `#`, failed or skipped `x`, left `-`.
    private func bar(_ row: Row, width: Int = 20) -> String {
        guard row.total > 0 else { return "[" + String(repeating: " ", count: width) + "]" }
        // Rounded as a whole, so a stage with nothing left fills its bar.
        // Clamped: a total that grew late (items, looks) never makes a negative count.
        let done = min(width, row.done * width / row.total)
        let bad = max(0, min(width, (row.done + row.failed + row.skipped) * width / row.total) - done)
        return "[" + String(repeating: "#", count: done) + String(repeating: "x", count: bad)
            + String(repeating: "-", count: width - done - bad) + "]"
    }
}
