/// What the journal says happened to each instance, across every run so far.
///
/// Built from the journal's text; damaged lines (a record torn by a kill in
/// the middle of its write, or corrupted) are set aside with their line
/// numbers and never trusted.
public struct JournalHistory: Sendable {
    public struct Entry: Sendable, Equatable {
        /// The last success, while it still stands: no attempt started after
        /// it and no `--force` covered it since.
        public var success: Success?
        /// The last ending recorded (success or not).
        public var lastOutcome: AttemptOutcome?
        /// Started but no ending recorded after it (the run died).
        public var unfinished = false
        public var skipped = false
        /// A `--force` made its success out of date and no attempt has started since.
        public var forcePending = false
        /// Attempts started, over every run.
        public var attempts = 0
        /// The last attempt's folder (its logs), when the journal names it.
        public var lastLogs: String?
        /// Wall seconds of every success, for duration estimates.
        public var successDurations: [Double] = []
        /// Where and when the last attempt started.
        public var lastRank = 0
        public var lastHost = ""
        public var lastStartTime = 0.0
        /// What the last ended attempt used.
        public var lastWallSeconds = 0.0
        public var lastPeakMemoryKiB = 0
    }

    /// A success as the journal holds it.
    public struct Success: Sendable, Equatable {
        /// What it was made from; nil in journals of older versions.
        public var lineage: SuccessLineage?
        /// Position of its record in the journal: which of two successes came later.
        public var sequence: Int
    }

    public private(set) var entries: [String: Entry] = [:]
    public private(set) var runs = 0
    /// Whether the last run journaled its end (a killed run did not).
    public private(set) var lastRunEnded = true
    /// How the last run began: when, where, on how many ranks.
    public private(set) var lastRun: JournalRecord.RunStart?
    /// The time of the last record that has one: about when a killed run died.
    public private(set) var lastRecordTime: Double?
    /// The `--force` requests journaled so far under an id (see `ForceRequest.id`).
    public private(set) var forcesByID: [String: ForceRequest] = [:]
    /// Records applied so far; gives each success its `sequence`.
    public private(set) var recordCount = 0
    /// (line number, why) of each line that is not a valid record.
    public private(set) var damaged: [(line: Int, reason: String)] = []
    /// Whether the last line was cut short (no newline at the end).
    public private(set) var endsTorn = false

    public init() {}

    public init(text: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" {
            lines.removeLast()
        } else if !lines.isEmpty {
            endsTorn = true
        }
        for (index, line) in lines.enumerated() {
            if endsTorn && index == lines.count - 1 {
                damaged.append((index + 1, "the last record was cut short (the run was killed while writing it)"))
                continue
            }
            do {
                apply(try JournalFormat.decode(line))
            } catch {
                damaged.append((index + 1, error.description))
            }
        }
    }

    public mutating func apply(_ record: JournalRecord) {
        recordCount += 1
        switch record {
        case .runStarted(let run):
            runs += 1
            lastRunEnded = false
            lastRun = run
            lastRecordTime = run.time
        case .started(let attempt):
            lastRecordTime = attempt.time
            // A new attempt may have touched the outputs: an earlier success no longer counts.
            var entry = entries[attempt.instance, default: Entry()]
            entry.unfinished = true
            entry.attempts += 1
            entry.success = nil
            entry.forcePending = false
            if let logs = attempt.logs { entry.lastLogs = logs }
            entry.lastRank = attempt.rank
            entry.lastHost = attempt.host
            entry.lastStartTime = attempt.time
            entries[attempt.instance] = entry
        case .finished(let attempt, let ending):
            lastRecordTime = attempt.time
            var entry = entries[attempt.instance, default: Entry()]
            entry.unfinished = false
            entry.skipped = false
            entry.lastOutcome = ending.outcome
            entry.lastWallSeconds = ending.wallSeconds
            entry.lastPeakMemoryKiB = ending.peakMemoryKiB
            if ending.outcome == .succeeded {
                entry.success = Success(lineage: ending.lineage, sequence: recordCount)
                entry.successDurations.append(ending.wallSeconds)
            } else {
                entry.success = nil
            }
            entries[attempt.instance] = entry
        case .skipped(let instance, _, _):
            entries[instance, default: Entry()].skipped = true
        case .forced(let request, _):
            if let id = request.id { forcesByID[id] = request }
            for (name, entry) in entries where entry.success != nil && request.covers(name) {
                entries[name]?.success = nil
                entries[name]?.forcePending = true
            }
        case .drained(_, _, _, let time):
            lastRecordTime = time
        case .runEnded(_, let time):
            lastRunEnded = true
            lastRecordTime = time
        }
    }

    public subscript(instance: String) -> Entry? { entries[instance] }
}

extension JournalHistory {
    /// Per stage of `job`: the median wall time of its successful attempts, nil when none.
    public func medianDurations(for job: Job) -> [Double?] {
        var byStage: [String: [Double]] = [:]
        for (name, entry) in entries where !entry.successDurations.isEmpty {
            let stage = String(name.prefix { $0 != ":" })
            byStage[stage, default: []] += entry.successDurations
        }
        return job.stages.map { stage in
            guard let durations = byStage[stage.name]?.sorted(), !durations.isEmpty else { return nil }
            let middle = durations.count / 2
            return durations.count % 2 == 1 ? durations[middle] : (durations[middle - 1] + durations[middle]) / 2
        }
    }
}
