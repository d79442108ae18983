public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Diagnostics as one line each on a file descriptor (stderr), written in
/// a single `write` so the lines of many ranks sharing mpirun's stderr do
/// not interleave: `cohort: rank 2 on node07: error: ... key=value`.
/// Rank and host come from the logger's metadata (see `ClusterRun`).
/// User-facing progress and the summary are not logs: they go through
/// `RunReporter`.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let fd: Int32

    public init(logLevel: Logger.Level = .warning, fd: Int32 = 2) {
        self.logLevel = logLevel
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        writeAll(fd, Self.line(event.level, event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }

    /// The line for one event: where it comes from, its level, the message,
    /// then any other metadata sorted by key.
    static func line(_ level: Logger.Level, _ message: String, metadata: Logger.Metadata) -> String {
        var place = "cohort"
        if let rank = metadata["rank"] { place += ": rank \(rank)" }
        if let host = metadata["host"] { place += " on \(host)" }
        let rest = metadata.filter { $0.key != "rank" && $0.key != "host" }.sorted { $0.key < $1.key }
            .map { " \($0.key)=\($0.value)" }.joined()
        return "\(place): \(level): \(message)\(rest)\n"
    }
}

extension Logger {
    /// A logger that drops everything: the default where a caller gives none.
    public static var silent: Logger { Logger(label: "cohort", factory: { _ in SwiftLogNoOpLogHandler() }) }
}
