import ArgumentParser
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort report job.yml -o report.html [--trace trace.json]`: where the
/// time went, from the journal, at any moment.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a self-contained HTML report of a run (timeline, slot use, stage statistics, failures) and, with --trace, a Chrome trace for Perfetto.")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var output = "report.html"

    @Option(help: ArgumentHelp("Also write Chrome trace-event JSON (open it in ui.perfetto.dev).", valueName: "file"))
    var trace: String?

    @Option(name: .customLong("run"), help: ArgumentHelp("Which run, counted from 1 (default: the last).", valueName: "n"))
    var runNumber: Int?

    func run() throws {
        let study = try Study.opened(jobFile, recordedTreeIfUnreadable: true)
        do {
            let report = try study.report(run: runNumber)
            try write(report.html, to: output)
            if let trace { try write(report.trace, to: trace) }
            writeLine(STDOUT_FILENO, "cohort: wrote \(output) (\(report.attempts) attempts)\(trace.map { " and \($0)" } ?? "")")
        } catch let problem as Study.ReportProblem {
            writeLine(STDERR_FILENO, "cohort: \(problem)")
            throw ExitCode(2)
        }
    }

    private func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            writeLine(STDERR_FILENO, "cohort: \(path): cannot write: \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes = bytes.dropFirst(count)
        }
        let closed = close(fd)
        guard bytes.isEmpty, closed == 0 else {
            writeLine(STDERR_FILENO, "cohort: \(path): cannot write: \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
    }
}
