public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// One failed instance as `status` shows it: where and how its last attempt
/// ended, the cause in plain words, the last line of its log.
public struct FailureDetail: Sendable {
    public var name: String
    public var failure: StudyStatus.Failure
    /// Absolute attempt folder: its logs.
    public var logFolder: String
    public var cause: String?
    /// The last line of stderr (else stdout), readable on a terminal; "" when empty.
    public var lastLine: String
    /// The stage's name (the part of the instance's name before the first `:`).
    public var stage: String { String(name.prefix { $0 != ":" }) }

    /// Failures alike: same stage, cause and last log line.
    var signature: String { failureSignature(stage: stage, cause: cause ?? failure.outcome.text, lastLine: lastLine) }

    /// The attempt's `rerun.sh` (its command, folder and environment), when the worker wrote one.
    public var rerunScript: String? {
        let path = logFolder + "/rerun.sh"
        return access(path, R_OK) == 0 ? path : nil
    }
}

extension FailureDetail {
    /// The detail of `failure` whose attempt folder is `folder`. Its log is
    /// read for the last line only when `readLog`: thousands of files on a
    /// network file system are slow, so only the first failures' are read
    /// (beyond, failures group by stage and cause alone).
    static func reading(_ failure: StudyStatus.Failure, folder: String, graph: InstanceGraph, readLog: Bool) -> FailureDetail {
        let tail = readLog ? LogPaths(folder: folder).failureTail(lines: 5, maxBytes: 4096) : ""
        let last = tail.split(separator: "\n").last.map { LogExcerpt.readable(String($0)) } ?? ""
        let stage = graph.job.stages[graph.stage(of: failure.instance)]
        return FailureDetail(name: graph.name(of: failure.instance), failure: failure, logFolder: folder,
                             cause: FailureCause.explain(failure.outcome, peakMemoryKiB: failure.peakMemoryKiB,
                                                         stageMemory: stage.memory, stderrTail: tail),
                             lastLine: last)
    }
}

/// Failures with one signature: the same stage, cause and last log line
/// (400 subjects failing alike read as one entry with a count).
public struct FailureGroup: Sendable {
    public var stage: String
    public var members: [FailureDetail]

    /// Groups in order of first appearance.
    public static func grouped(_ failures: [FailureDetail]) -> [FailureGroup] {
        groupedInOrder(failures, by: \.signature).map { FailureGroup(stage: $0[0].stage, members: $0) }
    }

    /// Alike failures beyond this many read as one entry.
    static let listedInFull = 2

    func lines(jobFile: String) -> [String] {
        guard members.count > Self.listedInFull else { return members.flatMap { Self.lines(of: $0, jobFile: jobFile) } }
        let first = members[0]
        let names = members.prefix(3).map(\.name).joined(separator: ", ")
        let more = members.count > 3 ? " and \(members.count - 3) more" : ""
        var lines = ["  \(stage) × \(members.count): \(first.failure.outcome.text) (\(names)\(more))"]
        if let cause = first.cause { lines.append("    cause: \(cause)") }
        lines.append("    last line: \(first.lastLine.isEmpty ? "(empty)" : first.lastLine)")
        lines.append("    logs of \(first.name): \(LogPaths.described(first.logFolder))")
        lines.append("    rerun them: cohort run \(CommandTemplate.shellQuoted(jobFile)) --only \(stage)")
        return lines
    }

    static func lines(of detail: FailureDetail, jobFile: String) -> [String] {
        let failure = detail.failure
        var lines = ["  \(detail.name): \(failure.outcome.text) (attempt \(failure.attempt)) on rank \(failure.rank) (\(failure.host)) after \(duration(failure.wallSeconds, precise: true)), peak memory \(Quantity.describe(bytes: Int64(failure.peakMemoryKiB) * 1024))"]
        if let cause = detail.cause { lines.append("    cause: \(cause)") }
        if !detail.lastLine.isEmpty { lines.append("    last line: \(detail.lastLine)") }
        lines.append("    logs: \(LogPaths.described(detail.logFolder))")
        lines.append("    rerun just it: cohort run \(CommandTemplate.shellQuoted(jobFile)) --only \(CommandTemplate.shellQuoted(detail.name))")
        if let script = detail.rerunScript { lines.append("    by hand, as the worker ran it: sh \(CommandTemplate.shellQuoted(script))") }
        return lines
    }
}

/// What `cohort status` shows, gathered once for the text and the JSON.
public struct StatusReport: Sendable {
    public let jobFile: String
    public let journalPath: String
    public let graph: InstanceGraph
    public let history: JournalHistory
    public let status: StudyStatus
    public let run: StatusText.RunState
    public let failures: [FailureDetail]
    public let failureGroups: [FailureGroup]

    /// Reads the last log line of each failure (its attempt folder under `factory`).
    public init(jobFile: String, journalPath: String, history: JournalHistory, status: StudyStatus,
                run: StatusText.RunState, factory: TaskFactory) {
        let graph = factory.graph
        self.jobFile = jobFile
        self.journalPath = journalPath
        self.graph = graph
        self.history = history
        self.status = status
        self.run = run
        failures = status.failures.enumerated().map { number, failure in
            let folder = failure.logs.map { resolved($0, in: factory.jobFolder) } ?? factory.instanceFolder(of: failure.instance)
            return FailureDetail.reading(failure, folder: folder, graph: graph, readLog: number < Self.logsRead)
        }
        failureGroups = FailureGroup.grouped(failures)
    }

    /// How many failures' logs are read for their last line.
    static let logsRead = 1000

    /// Whether anything failed: `cohort status` exits 1 then.
    public var anythingFailed: Bool { !status.failures.isEmpty }
}

/// What makes failures alike: the stage, the cause and the last log line,
/// each absolute path in them left out ("cannot create folder
/// /data/out/a/sub-07: Permission denied" is one failure for 200 subjects,
/// not 200 each with its own path).
func failureSignature(stage: String, cause: String, lastLine: String) -> String {
    func withoutPaths(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { word in
            guard word.hasPrefix("/") else { return String(word) }
            return "…" + (word.last.map { ":,;.)".contains($0) ? String($0) : "" } ?? "")
        }.joined(separator: " ")
    }
    return [stage, withoutPaths(cause), withoutPaths(lastLine)].joined(separator: "\u{1f}")
}

/// `items` in groups of equal `key`, the groups in order of first
/// appearance: the status's and the summary's failures alike read as one.
func groupedInOrder<T>(_ items: [T], by key: (T) -> String) -> [[T]] {
    var order: [String] = []
    var groups: [String: [T]] = [:]
    for item in items {
        let name = key(item)
        if groups[name] == nil { order.append(name) }
        groups[name, default: []].append(item)
    }
    return order.map { groups[$0]! }
}
