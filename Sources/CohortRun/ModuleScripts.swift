public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// The module scripts a job's `run` lines run, read once per run: editing
/// one makes its stage's results out of date (DESIGN §5). Programs (ELF
/// binaries such as an FSL tool) are not scripts: a new version of a tool
/// does not rerun a study by itself; `--force` does that.
public enum ModuleScripts {
    /// Larger files are taken for programs, not module scripts.
    static let largestScript = 16 << 20

    /// A script that cannot be read: hashing what could be read would call
    /// a whole stage changed over one file-system hiccup, so the run refuses.
    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Per stage: a hash of the content of the scripts its `run` line runs
    /// (see `ScriptReference`), or nil when it runs none (or only programs).
    public static func digests(job: Job, jobFolder: String) throws(Unreadable) -> [UInt64?] {
        try digests(job: job, jobFolder: jobFolder) { error throws(Unreadable) in throw error }
    }

    /// Per stage: the digest of the script the earlier reading of run lines
    /// found (`ScriptReference.pathAsReadBefore`), what journals written
    /// before whole-line reading hold; nil when none or unreadable.
    public static func earlierDigests(job: Job, jobFolder: String) -> [UInt64?] {
        job.stages.map { stage in
            guard let script = ScriptReference.pathAsReadBefore(in: stage.command) else { return nil }
            return (try? digest(of: resolved(script, in: jobFolder))) ?? nil
        }
    }

    /// For reports from the login node (`cohort status`): a script that
    /// cannot be read (missing while the job file is being edited) makes its
    /// stage look changed, and is named in `unreadable`, instead of failing.
    public static func digestsOfWhatCanBeRead(job: Job, jobFolder: String) -> (digests: [UInt64?], unreadable: [String]) {
        var unreadable: [String] = []
        let digests = digests(job: job, jobFolder: jobFolder) { (error: Unreadable) -> UInt64? in
            unreadable.append(error.description)
            return .max  // matches no journaled digest, not even "no script" (0)
        }
        return (digests, unreadable)
    }

    private static func digests<Failure: Error>(job: Job, jobFolder: String,
                                                onUnreadable: (Unreadable) throws(Failure) -> UInt64?) throws(Failure) -> [UInt64?] {
        var cache: [String: UInt64?] = [:]
        var digests: [UInt64?] = []
        for stage in job.stages {
            var combined: [UInt64] = []
            for script in ScriptReference.analyse(stage.command).scripts {
                let path = resolved(script.path, in: jobFolder)
                let digest: UInt64?
                if let known = cache[path] {
                    digest = known
                } else {
                    do {
                        digest = try self.digest(of: path)
                    } catch {
                        digest = try onUnreadable(error)
                    }
                    cache[path] = digest
                }
                if let digest { combined.append(digest) }
            }
            // One script: its own digest, as journals of earlier versions hold it.
            digests.append(combined.count <= 1 ? combined.first : Fingerprint.of(bytes: combined.map { String($0, radix: 16) }.joined(separator: ",").utf8))
        }
        return digests
    }

    /// nil for a program.
    static func digest(of path: String) throws(Unreadable) -> UInt64? {
        func unreadable() -> Unreadable { Unreadable(description: "cannot read the module script \(path): \(String(cString: strerror(errno)))") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw unreadable() }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw unreadable() }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= largestScript else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var total = 0
        while total < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw unreadable() }
            if count == 0 { break }
            total += count
        }
        if bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) { return nil }
        return Fingerprint.of(bytes: bytes[0..<total])
    }
}
