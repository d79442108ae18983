#if canImport(Glibc)
import Glibc
#endif

/// The worker's long-lived launcher process (`cohort-supervise --serve`),
/// started on the first request: it forks a supervisor per module, so a
/// module start costs this process one write to a pipe, not a spawn.
///
/// Requests go down one pipe (never blocking this process for long: while
/// the pipe is full, reports are read meanwhile); each module's supervisor
/// writes its report up another. A launcher found dead (the OOM killer, a
/// kill -9) is replaced at the next request; its report pipe is still read
/// until every supervisor it left has reported or gone, and the modules
/// that never reported come back from `takeReports` as `unreported`.
/// Closing the request pipe (`deinit`) makes a launcher stop what still
/// runs and leave.
final class ModuleLauncher {
    /// One launcher process and the modules it was asked to run.
    private struct Launcher {
        var pid: pid_t
        var requests: Int32
        var reports: Int32
        /// Report bytes after the last whole line.
        var partial: [UInt8] = []
        /// Modules it runs that have not reported yet.
        var running: Set<UInt64> = []
    }

    private let path: String
    private let environment: [String: String]
    private var current: Launcher?
    /// Launchers that died, while supervisors they left may still report.
    private var retired: [Launcher] = []
    /// Reports read while a request waited for room in the pipe.
    private var received: [LauncherProtocol.Report] = []

    init(path: String, environment: [String: String]) {
        self.path = path
        self.environment = environment
    }

    deinit {
        for launcher in retired + (current.map { [$0] } ?? []) {
            if launcher.requests >= 0 { close(launcher.requests) }
            close(launcher.reports)
            var status: Int32 = 0
            _ = waitpid(launcher.pid, &status, WNOHANG)
        }
    }

    /// Readable when reports have arrived (nil before the first request).
    var reportDescriptor: Int32? { current?.reports }

    /// Asks for module `id` to run (`frame` from `LauncherProtocol.runFrame`),
    /// starting a launcher first if none runs or the last one died.
    func run(_ id: UInt64, frame: [UInt8]) throws(Spawn.Failure) {
        if current == nil { current = try start() }
        do {
            try write(frame, to: current!.requests)
        } catch {
            // It died since the last request: the next one takes this.
            retireCurrent()
            current = try start()
            try write(frame, to: current!.requests)
        }
        current!.running.insert(id)
    }

    /// Passes a stop request for module `id` to the launcher running it (one
    /// that died has told its supervisors to stop theirs already).
    func stop(_ id: UInt64, now: Bool) {
        guard let launcher = current, launcher.running.contains(id) else { return }
        try? write(LauncherProtocol.stopFrame(id: id, now: now), to: launcher.requests)
    }

    /// Reports that arrived since the last call, and the modules whose
    /// launcher and supervisor are gone without a report.
    func takeReports() -> (reports: [LauncherProtocol.Report], unreported: [UInt64]) {
        var unreported: [UInt64] = []
        if current != nil, !read(&current!) {
            unreported += current!.running
            close(current!.reports)
            current = nil
        }
        var index = 0
        while index < retired.count {
            if read(&retired[index]) {
                index += 1
            } else {
                unreported += retired[index].running
                let gone = retired.remove(at: index)
                close(gone.reports)
            }
        }
        let taken = received
        received = []
        return (taken, unreported)
    }

    private func write(_ frame: [UInt8], to requests: Int32) throws(Spawn.Failure) {
        guard requests >= 0 else { throw Spawn.Failure(description: "the module launcher has ended") }
        var offset = 0
        while offset < frame.count {
            let written = frame.withUnsafeBytes { Glibc.write(requests, $0.baseAddress! + offset, frame.count - offset) }
            if written > 0 {
                offset += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            guard written < 0 && errno == EAGAIN else {
                throw Spawn.Failure(description: "the module launcher does not take requests: \(errnoText())")
            }
            // The launcher may be waiting for us to read reports first.
            if current != nil, !read(&current!) {
                throw Spawn.Failure(description: "the module launcher has ended")
            }
            var ready = pollfd(fd: requests, events: Int16(POLLOUT), revents: 0)
            _ = poll(&ready, 1, 10)
        }
    }

    /// Reads what `launcher`'s report pipe holds into `received`; false
    /// once the pipe has ended (the launcher and all its supervisors are gone).
    private func read(_ launcher: inout Launcher) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16384)
        var open = true
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(launcher.reports, $0.baseAddress!, $0.count) }
            if count > 0 {
                launcher.partial += buffer[0..<count]
                continue
            }
            if count < 0 && errno == EINTR { continue }
            open = count < 0 && errno == EAGAIN
            break
        }
        if let lastNewline = launcher.partial.lastIndex(of: UInt8(ascii: "\n")) {
            let text = String(decoding: launcher.partial[...lastNewline], as: UTF8.self)
            launcher.partial.removeSubrange(...lastNewline)
            for report in text.split(separator: "\n").compactMap(LauncherProtocol.report(parsing:))
            where launcher.running.remove(report.id) != nil {
                received.append(report)
            }
        }
        if !open {
            if launcher.requests >= 0 { close(launcher.requests) }
            launcher.requests = -1
            var status: Int32 = 0
            while waitpid(launcher.pid, &status, 0) < 0 && errno == EINTR {}
        }
        return open
    }

    /// The current launcher died: no more requests to it; its reports are still read.
    private func retireCurrent() {
        guard let launcher = current else { return }
        if launcher.requests >= 0 { close(launcher.requests) }
        retired.append(Launcher(pid: launcher.pid, requests: -1, reports: launcher.reports,
                                partial: launcher.partial, running: launcher.running))
        current = nil
    }

    private func start() throws(Spawn.Failure) -> Launcher {
        // Writes to a launcher that died must fail, not kill this process.
        signal(SIGPIPE, SIG_IGN)
        var down: [Int32] = [-1, -1]
        var up: [Int32] = [-1, -1]
        guard pipe(&down) == 0 else { throw Spawn.Failure(description: "cannot make a pipe: \(errnoText())") }
        guard pipe(&up) == 0 else {
            close(down[0]); close(down[1])
            throw Spawn.Failure(description: "cannot make a pipe: \(errnoText())")
        }
        // No other child gets them (the launcher gets its ends as stdin and stdout).
        for end in down + up { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer {
            close(down[0])
            close(up[1])
        }
        let pid: pid_t
        do {
            pid = try Spawn.start([path, "--serve", String(getpid())], environment: environment,
                                  standardInput: down[0], standardOutput: up[1])
        } catch {
            close(down[1]); close(up[0])
            throw error
        }
        _ = fcntl(down[1], F_SETFL, O_NONBLOCK)
        _ = fcntl(up[0], F_SETFL, O_NONBLOCK)
        return Launcher(pid: pid, requests: down[1], reports: up[0])
    }
}
