#if canImport(Glibc)
import Glibc
#endif

/// Small file helpers for tests.
public enum Files {
    public static func read(_ path: String) -> String {
        guard let file = fopen(path, "rb") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to `path`, creating missing folders on the way.
    public static func write(_ path: String, _ text: String) {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { makeFolder(String(path[..<slash])) }
        guard let file = fopen(path, "wb") else { return }
        defer { fclose(file) }
        _ = Array(text.utf8).withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// `mkdir -p`.
    public static func makeFolder(_ path: String) {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            mkdir(built, 0o755)
        }
    }
}

public enum TemporaryFolder {
    public struct Failure: Error {}

    /// A new empty folder under $TMPDIR or /tmp.
    public static func make(prefix: String) throws -> String {
        let base = ProcessEnvironment.value("TMPDIR") ?? "/tmp"
        var template = Array("\(base)/cohort-\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure() }
        return String(cString: made)
    }
}

/// Which file system a path is on, for tests of moves across them.
public enum FileSystems {
    /// Whether `a` and `b` are on different file systems (false if either is missing).
    public static func differ(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev != second.st_dev
    }
}
