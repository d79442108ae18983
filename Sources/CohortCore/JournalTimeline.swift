/// Every attempt the journal records, as a span of time on a worker: what
/// `cohort report` draws. Read from the journal alone, so it works mid-run
/// and after a crash; damaged lines are left out, as everywhere.
public struct JournalTimeline: Sendable {
    public struct Span: Sendable, Equatable {
        public var instance: String
        public var attempt: Int
        public var rank: Int
        public var host: String
        /// Seconds since the epoch.
        public var start: Double
        public var end: Double
        /// nil when no ending was recorded: still running, or its run was killed.
        public var outcome: AttemptOutcome?
        public var peakMemoryKiB: Int
        /// A multi-node attempt as one of its other workers saw it: held
        /// there while its module ran on the first (counted once, there).
        public var heldOnly = false
    }

    /// A run as the journal holds it.
    public struct Run: Sendable {
        public var start: Double
        /// When it recorded its end, or its last record (a killed or live run).
        public var end: Double
        public var ended: Bool
        public var ranks: Int
        public var spans: [Span] = []
        /// Each worker's rank, host and cpus as it joined (journals of older versions have none).
        public var workers: [(rank: Int, host: String, cpus: Int)] = []
    }

    public private(set) var runs: [Run] = []

    public init(text: String) {
        var open: [String: Span] = [:]
        /// The other workers of each open multi-node attempt.
        var alsoRanks: [String: [Int]] = [:]
        /// A span, and a copy on each other worker its attempt held.
        func append(_ span: Span) {
            runs[runs.count - 1].spans.append(span)
            for rank in alsoRanks.removeValue(forKey: span.instance) ?? [] {
                var copy = span
                copy.rank = rank
                copy.heldOnly = true
                copy.host = runs[runs.count - 1].workers.last { $0.rank == rank }?.host ?? "?"
                runs[runs.count - 1].spans.append(copy)
            }
        }
        func close(at time: Double) {
            guard !runs.isEmpty else { return }
            for var span in open.values {
                span.end = max(span.start, time)
                append(span)
            }
            open = [:]
            alsoRanks = [:]
        }
        for line in text.split(separator: "\n") {
            guard let record = try? JournalFormat.decode(line) else { continue }
            switch record {
            case .runStarted(let run):
                close(at: runs.last?.end ?? run.time)
                runs.append(Run(start: run.time, end: run.time, ended: false, ranks: run.ranks))
            case .started(let attempt):
                guard !runs.isEmpty else { continue }
                runs[runs.count - 1].end = max(runs[runs.count - 1].end, attempt.time)
                open[attempt.instance] = Span(instance: attempt.instance, attempt: attempt.attempt, rank: attempt.rank,
                                              host: attempt.host, start: attempt.time, end: attempt.time, outcome: nil, peakMemoryKiB: 0)
                alsoRanks[attempt.instance] = attempt.alsoRanks.isEmpty ? nil : attempt.alsoRanks
            case .finished(let attempt, let ending):
                guard !runs.isEmpty else { continue }
                runs[runs.count - 1].end = max(runs[runs.count - 1].end, attempt.time)
                var span = open.removeValue(forKey: attempt.instance)
                    ?? Span(instance: attempt.instance, attempt: attempt.attempt, rank: attempt.rank, host: attempt.host,
                            start: attempt.time - ending.wallSeconds, end: attempt.time, outcome: nil, peakMemoryKiB: 0)
                // A follow-on is journaled when queued and starts when the
                // one ahead of it ends: it ran for its wall time before its end.
                span.start = max(span.start, min(attempt.time, attempt.time - ending.wallSeconds))
                span.end = max(span.start, attempt.time)
                span.outcome = ending.outcome
                span.peakMemoryKiB = ending.peakMemoryKiB
                append(span)
            case .runEnded(_, let time):
                guard !runs.isEmpty else { continue }
                runs[runs.count - 1].end = max(runs[runs.count - 1].end, time)
                runs[runs.count - 1].ended = true
            case .workerJoined(let rank, let host, let cpus, _, let time):
                guard !runs.isEmpty else { continue }
                runs[runs.count - 1].workers.append((rank, host, cpus))
                runs[runs.count - 1].end = max(runs[runs.count - 1].end, time)
            case .skipped(_, _, let time), .drained(_, _, _, let time), .forced(_, let time):
                if !runs.isEmpty { runs[runs.count - 1].end = max(runs[runs.count - 1].end, time) }
            case .studyTree(let change):
                if !runs.isEmpty { runs[runs.count - 1].end = max(runs[runs.count - 1].end, change.time) }
            case .itemsListed(_, _, _, let time, _), .itemsChanged(_, _, _, _, let time, _):
                if !runs.isEmpty { runs[runs.count - 1].end = max(runs[runs.count - 1].end, time) }
            }
        }
        // Attempts still open: running now (a live run) or cut short (a killed one).
        close(at: runs.last?.end ?? 0)
    }

    /// Places each span of a run on a lane of its worker: the first lane
    /// free when it starts. Returns the lane per span (in `spans`' order)
    /// and the lanes per rank.
    public static func lanes(of spans: [Span]) -> (lane: [Int], lanesPerRank: [Int: Int]) {
        var lane = Array(repeating: 0, count: spans.count)
        var ends: [Int: [Double]] = [:]
        for index in spans.indices.sorted(by: { (spans[$0].start, $0) < (spans[$1].start, $1) }) {
            let span = spans[index]
            var free = ends[span.rank, default: []]
            if let slot = free.firstIndex(where: { $0 <= span.start }) {
                free[slot] = span.end
                lane[index] = slot
            } else {
                lane[index] = free.count
                free.append(span.end)
            }
            ends[span.rank] = free
        }
        return (lane, ends.mapValues(\.count))
    }
}
