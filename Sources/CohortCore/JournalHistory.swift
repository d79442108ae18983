/// What the journal says happened to each instance, across every run so far.
///
/// Built from the journal's text; damaged lines (a record torn by a kill in
/// the middle of its write, or corrupted) are set aside with their line
/// numbers and never trusted.
public struct JournalHistory: Sendable {
    public struct Entry: Sendable, Equatable {
        /// The fingerprint of the last success, if the instance ever succeeded.
        public var successFingerprint: String?
        /// The last ending recorded (success or not).
        public var lastOutcome: JournalRecord.Ending.Outcome?
        /// Started but no ending recorded after it (the run died).
        public var unfinished = false
        public var skipped = false
        public var attempts = 0
        /// Wall seconds of every success, for duration estimates.
        public var successDurations: [Double] = []
    }

    public private(set) var entries: [String: Entry] = [:]
    public private(set) var runs = 0
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
        switch record {
        case .runStarted:
            runs += 1
        case .started(let attempt):
            // A new attempt may have touched the outputs: an earlier success no longer counts.
            var entry = entries[attempt.instance, default: Entry()]
            entry.unfinished = true
            entry.attempts += 1
            entry.successFingerprint = nil
            entries[attempt.instance] = entry
        case .finished(let attempt, let ending):
            var entry = entries[attempt.instance, default: Entry()]
            entry.unfinished = false
            entry.skipped = false
            entry.lastOutcome = ending.outcome
            if ending.outcome == .succeeded {
                entry.successFingerprint = ending.fingerprint
                entry.successDurations.append(ending.wallSeconds)
            } else {
                entry.successFingerprint = nil
            }
            entries[attempt.instance] = entry
        case .skipped(let instance, _, _):
            entries[instance, default: Entry()].skipped = true
        case .runEnded:
            break
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
