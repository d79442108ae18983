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

    /// A new empty folder inside `root`.
    public static func make(prefix: String) throws -> String {
        guard let root else { throw Failure() }
        var template = Array("\(root)/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure() }
        return String(cString: made)
    }

    /// One folder under $TMPDIR or /tmp for everything the test process
    /// makes (jobs, studies, children's output), removed when it exits:
    /// a test run leaves nothing behind, whichever tests failed.
    static let root: String? = {
        let base = ProcessEnvironment.value("TMPDIR") ?? "/tmp"
        var template = Array("\(base)/cohort-tests-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return nil }
        // Others may pass through (a test runs Cohort as `nobody` in a folder of its own).
        chmod(made, 0o711)
        atexit { TemporaryFolder.removeRoot() }
        return String(cString: made)
    }()

    private static func removeRoot() {
        if let root { removeTree(root) }
    }

    /// `rm -rf`: depth first, links removed, never followed.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFDIR, let folder = opendir(path) else {
            unlink(path)
            return
        }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { removeTree(path + "/" + name) }
        }
        closedir(folder)
        rmdir(path)
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
