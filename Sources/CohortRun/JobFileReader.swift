public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Reading a job file from disk: the thin I/O wrapper around `JobLoader`.
public enum JobFileReader {
    /// Loads and validates the job at `path`.
    public static func load(path: String) throws(JobFileError) -> Job {
        try loadWithHash(path: path).job
    }

    /// The job and the hash of the text it came from.
    public static func loadWithHash(path: String) throws(JobFileError) -> (job: Job, hash: String) {
        let text = try readText(path)
        return (try JobLoader.load(text: text, file: path), Fingerprint.of(text: text))
    }

    /// The UTF-8 text of the regular file at `path`, at most `limit` bytes.
    static func readText(_ path: String, limit: Int = JobLoader.maximumBytes, kind: String = "job files") throws(JobFileError) -> String {
        func fail(_ message: String) -> JobFileError {
            JobFileError(problems: [JobFileProblem(file: path, line: nil, field: "", message: message)])
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot read: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file") }
        guard info.st_size <= limit else { throw fail("the file is \(info.st_size) bytes; \(kind) are limited to \(limit) bytes") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var total = 0
        while total < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw fail("cannot read: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            total += count
        }
        guard total <= limit else { throw fail("the file grew past \(limit) bytes while being read") }
        guard let text = String(validating: bytes[0..<total], as: UTF8.self) else {
            throw fail("not UTF-8 text")
        }
        return text
    }

    /// A small state file's text (journal, lock), or nil when it does not exist.
    public static func readOptional(_ path: String) -> String? {
        guard access(path, F_OK) == 0 else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The absolute folder holding the job file.
    public static func folder(of path: String) -> String {
        let absolute: String
        if path.hasPrefix("/") {
            absolute = path
        } else {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buffer, buffer.count) != nil
                ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "."
            absolute = cwd + "/" + path
        }
        let normal = normalized(absolute)
        guard let slash = normal.lastIndex(of: "/") else { return "." }
        return slash == normal.startIndex ? "/" : String(normal[..<slash])
    }
}
