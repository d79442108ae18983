public import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Gives an attempt a clean start (DESIGN §5, clean attempts): its logs go
/// to a folder of its own that no other attempt uses, and the instance's
/// folder is empty when it starts. What an earlier attempt left there is
/// moved aside, never deleted: into that attempt's folder, as `files/`.
/// Cohort deletes nothing of a user's; `rm -rf WORKDIR/.attempts` reclaims the space.
///
/// Whatever is at the instance folder's path is moved: a symlink (the link,
/// not what it points to) or a file as much as a folder. When the instance
/// folder lies on another file system than `.attempts` (a stage folder
/// linked to scratch), its files stay on their file system, beside it as
/// `.NAME.earlier`, and the attempt folder's `files` is a link to them.
public enum AttemptFolders {
    /// What is left to do before the module starts.
    public enum Preparation: Equatable {
        /// The instance folder is there, empty.
        case ready
        /// Nothing is at the instance folder's path: the module's supervisor
        /// makes it (and missing parents), in parallel with the worker's loop.
        case folderToMake
        /// Why the attempt cannot start.
        case failed(String)
    }

    /// Prepares the folders of `order`.
    ///
    /// The attempt folder is not made here: its supervisor makes it with the
    /// first log line (a module that prints nothing and succeeds leaves none).
    /// In the usual case, a first attempt, this is an `rmdir` and an `lstat`
    /// that find nothing, and the supervisor's one `mkdir` (a quarter to
    /// half a millisecond on ext4 here: off the loop that feeds the others).
    public static func prepare(_ order: TaskOrder) -> Preparation {
        if let problem = clearAttemptFolder(order.attemptFolder) { return .failed(problem) }
        // A generator writes its list into its attempt's folder: made first.
        if order.itemsFile != nil || order.hostfile != nil, let problem = makeFolder(order.attemptFolder) { return .failed(problem) }
        if let hostfile = order.hostfile, let problem = writeFile(hostfile.path, hostfile.text) { return .failed(problem) }
        var existing = stat()
        if lstat(order.instanceFolder, &existing) != 0 && errno == ENOENT { return .folderToMake }
        // An empty folder is removed and made again; rmdir fails with
        // ENOTEMPTY/EEXIST when something is in it, ENOTDIR for a link or a file.
        if rmdir(order.instanceFolder) != 0 && errno != ENOENT {
            guard errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR else {
                return .failed("cannot use folder \(order.instanceFolder): \(errnoText())")
            }
            if let problem = moveAside(order.instanceFolder, to: order.asideFolder) { return .failed(problem) }
        }
        return makeFolder(order.instanceFolder).map { .failed($0) } ?? .ready
    }

    /// Leaves no folder at `path`: if one is there with something in it (a
    /// journal that was lost, numbering attempts from 1 again), keeps that
    /// under another name.
    private static func clearAttemptFolder(_ path: String) -> String? {
        if rmdir(path) == 0 || errno == ENOENT { return nil }
        guard errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR else {
            return "cannot use folder \(path): \(errnoText())"
        }
        return moveAside(path, to: path + ".earlier")
    }

    /// Renames `folder` to `destination` (or `destination.2`, `.3`, ... when
    /// taken); across file systems, beside `folder` with a link at `destination`.
    private static func moveAside(_ folder: String, to destination: String) -> String? {
        if let problem = makeFolder(parent(of: destination)) { return problem }
        let moved = renameToFreeName(folder, destination)
        guard case .failed(let error) = moved else { return nil }
        guard error == EXDEV else {
            return "cannot move the earlier attempt's files from \(folder) to \(destination): \(errnoText(error))"
        }
        let name = folder[folder.index(after: folder.lastIndex(of: "/") ?? folder.startIndex)...]
        switch renameToFreeName(folder, parent(of: folder) + "/." + name + ".earlier") {
        case .failed(let error):
            return "cannot move the earlier attempt's files from \(folder) aside: \(errnoText(error))"
        case .renamed(let beside):
            if symlink(beside, destination) != 0 {
                return "moved the earlier attempt's files to \(beside) but cannot link them from \(destination): \(errnoText())"
            }
            return nil
        }
    }

    private enum Renamed { case renamed(to: String), failed(errno: Int32) }

    /// Renames `path` to `target`, or `target.2`, `.3`, ... when taken.
    private static func renameToFreeName(_ path: String, _ target: String) -> Renamed {
        var name = target
        for suffix in 2...1001 {
            // rename(2) would replace a file, a link or an empty folder of that name: never reuse one.
            var existing = stat()
            if lstat(name, &existing) != 0 {
                if rename(path, name) == 0 { return .renamed(to: name) }
                guard [EEXIST, ENOTEMPTY].contains(errno) else { return .failed(errno: errno) }
            }
            name = target + "." + String(suffix)
        }
        return .failed(errno: EEXIST)
    }

    private static func parent(of path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }
}

/// Creates `path` and any missing parents (one mkdir when only the last is
/// missing); the reason when it cannot.
/// Writes `text` to a new file at `path`; nil, or why not.
func writeFile(_ path: String, _ text: String) -> String? {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { return "cannot write \(path): \(errnoText())" }
    defer { close(descriptor) }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    return written == bytes.count ? nil : "cannot write \(path): \(errnoText())"
}

func makeFolder(_ path: String) -> String? {
    if mkdir(path, 0o755) == 0 { return nil }
    switch errno {
    case EEXIST:
        break
    case ENOENT:
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
            return "cannot create folder \(path): \(errnoText())"
        }
        if let problem = makeFolder(String(path[..<slash])) { return problem }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { return "cannot create folder \(path): \(errnoText())" }
    default:
        return "cannot create folder \(path): \(errnoText())"
    }
    var info = stat()
    if stat(path, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR {
        return "cannot create folder \(path): a file is in the way"
    }
    if access(path, W_OK) != 0 {
        return "cannot write to folder \(path): \(errnoText())"
    }
    return nil
}
