public import CohortCore
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Finds the subjects of a job whose subjects are on disk (DESIGN §8):
/// lists a BIDS dataset's folders for `BIDSLayout`, or reads a subjects
/// file for `SubjectList`. Done by whoever opens the study: rank 0 at the
/// start of a run, `plan`, `status` and `validate` alike.
public enum DatasetReader {
    /// At most this many warnings are shown one by one (a dataset of 10^5
    /// subjects against a stale participants.tsv would bury the run's output).
    static let warningsShown = 20
    /// Subjects files may be far larger than job files: 10^6 subjects fit.
    static let subjectsFileLimit = 64 << 20

    /// `job` with its subjects filled in, and located warnings for what was
    /// left out. A dataset or file that cannot be read, or a subjects file
    /// with a bad line, refuses the job.
    public static func discover(_ job: Job, jobFile: String, jobFolder: String) throws(JobFileError) -> (job: Job, warnings: [String]) {
        var job = job
        var warnings: [String] = []
        switch job.subjectSource {
        case .listed:
            return (job, [])
        case .bids(let path, let line):
            let place = Place(path: path, jobFile: jobFile, jobFolder: jobFolder)
            let listing = try bidsListing(place, line: line, jobFile: jobFile)
            (job.subjects, warnings) = BIDSLayout.subjects(in: listing)
            guard !job.subjects.isEmpty else {
                // An empty mount point, a path one level too deep: never a study of nothing.
                let why = warnings.first.map { " (\(warnings.count) left out, such as \($0))" } ?? " (no sub-* folders)"
                throw JobFileError(problems: [JobFileProblem(file: jobFile, line: line, field: "dataset.bids",
                                                             message: "\(place.shown): no subjects\(why)")])
            }
        case .file(let path, let line, let sessions):
            let place = Place(path: path, jobFile: jobFile, jobFolder: jobFolder)
            let text: String
            do {
                text = try JobFileReader.readText(place.absolute, limit: subjectsFileLimit, kind: "subjects files")
            } catch {
                let reason = error.problems.first?.message ?? "cannot read"
                throw JobFileError(problems: [JobFileProblem(file: jobFile, line: line, field: "subjects.file", message: "\(place.shown): \(reason)")])
            }
            let (names, problems) = SubjectList.names(in: text)
            guard problems.isEmpty else {
                throw JobFileError(problems: problems.map { JobFileProblem(file: place.shown, line: $0.line, field: "", message: $0.message) })
            }
            guard !names.isEmpty else {
                throw JobFileError(problems: [JobFileProblem(file: jobFile, line: line, field: "subjects.file", message: "\(place.shown): no subjects")])
            }
            job.subjects = names.map { Subject(name: $0, sessions: sessions) }
        }
        if warnings.count > warningsShown {
            let more = warnings.count - warningsShown
            warnings = Array(warnings.prefix(warningsShown)) + ["\(jobFile): warning: \(more) more subjects or rows of the dataset left out (cohort plan lists every instance that will run)"]
        }
        return (job, warnings)
    }

    /// A path of the job file, as Cohort opens it and as messages show it
    /// (beside the job file as the user named it: `jobs/bids/data`).
    struct Place {
        var absolute: String
        var shown: String

        init(path: String, jobFile: String, jobFolder: String) {
            if path.hasPrefix("/") {
                absolute = path
                shown = path
            } else {
                absolute = jobFolder + "/" + path
                let slash = jobFile.lastIndex(of: "/")
                shown = normalized(slash.map { String(jobFile[...$0]) + path } ?? path)
                if shown.isEmpty { shown = "." }
            }
        }
    }

    /// The `sub-*` and `ses-*` entries of the dataset, and its participants.tsv.
    static func bidsListing(_ place: Place, line: Int, jobFile: String) throws(JobFileError) -> BIDSLayout.Listing {
        guard let root = realPath(place.absolute), isFolder(root) else {
            let reason = access(place.absolute, F_OK) == 0 ? "not a folder" : String(cString: strerror(errno))
            throw JobFileError(problems: [JobFileProblem(file: jobFile, line: line, field: "dataset.bids", message: "\(place.shown): \(reason)")])
        }
        let rootDescriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if rootDescriptor >= 0 { close(rootDescriptor) } }
        guard let names = entries(of: dup(rootDescriptor)) else {
            let reason = String(cString: strerror(errno))
            throw JobFileError(problems: [JobFileProblem(file: jobFile, line: line, field: "dataset.bids", message: "\(place.shown): cannot list: \(reason)")])
        }
        let candidates = names.filter { $0.name.hasPrefix("sub-") }
        let subjects = inParallel(candidates.count) { index in
            let (name, type) = candidates[index]
            var entry = BIDSLayout.Entry(name, kind(of: root + "/" + name, type: type, root: root))
            var sessions: [BIDSLayout.Entry] = []
            if entry.kind == .folder {
                // Opened beside the root's descriptor: no walk from `/` per subject.
                let folder = openat(rootDescriptor, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard let listed = entries(of: folder) else {
                    entry.kind = .unreadable(String(cString: strerror(errno)))
                    return BIDSLayout.SubjectEntry(entry)
                }
                for (session, type) in listed where session.hasPrefix("ses-") {
                    sessions.append(BIDSLayout.Entry(session, kind(of: root + "/" + name + "/" + session, type: type, root: root)))
                }
            }
            return BIDSLayout.SubjectEntry(entry, sessions: sessions)
        }
        // A table that is there but cannot be read (a link to an annexed file
        // not fetched, no permission) would make every folder a subject: refused.
        let table = root + "/participants.tsv"
        var participants: String?
        var info = stat()
        if lstat(table, &info) == 0 {
            do {
                participants = try JobFileReader.readText(table, limit: subjectsFileLimit, kind: "participants tables")
            } catch {
                let reason = error.problems.first?.message ?? "cannot read"
                throw JobFileError(problems: [JobFileProblem(file: jobFile, line: line, field: "dataset.bids",
                                                             message: "\(place.shown)/participants.tsv: \(reason)")])
            }
        }
        return BIDSLayout.Listing(root: place.shown, subjects: subjects, participants: participants)
    }

    /// `make(0..<count)`, on every core when there are many: listing 10^5
    /// subject folders is 10^5 opens and reads, nearly all of it kernel
    /// time that cores can share.
    static func inParallel<T: Sendable>(_ count: Int, _ make: @Sendable (Int) -> T) -> [T] {
        let threads = count < 512 ? 1 : min(Machine.cores, 16)
        guard threads > 1 else { return (0..<count).map(make) }
        let parts = Results<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in stride(from: thread, to: count, by: threads) { parts.set(index, make(index)) }
        }
        return parts.values
    }

    /// Slots each written by one thread only (`inParallel`'s stride), read
    /// once every thread is done.
    private final class Results<T>: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<T?>
        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }
        deinit { slots.deinitialize().deallocate() }
        func set(_ index: Int, _ value: T) { slots[index] = value }
        var values: [T] { slots.map { $0! } }
    }

    /// The entries of the folder open at `descriptor` (taken over and
    /// closed) and their `d_type` (DT_UNKNOWN on some file systems),
    /// without `.` and `..`; nil when it cannot be listed.
    static func entries(of descriptor: Int32) -> [(name: String, type: UInt8)]? {
        guard descriptor >= 0 else { return nil }
        guard let directory = fdopendir(descriptor) else {
            close(descriptor)
            return nil
        }
        defer { closedir(directory) }
        var found: [(String, UInt8)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            found.append((name, entry.pointee.d_type))
        }
        return found
    }

    /// A folder, a link out of the dataset, or something else. `d_type`
    /// saves a stat per entry where the file system gives it.
    static func kind(of path: String, type: UInt8, root: String) -> BIDSLayout.Kind {
        switch Int32(type) {
        case Int32(DT_DIR): return .folder
        case Int32(DT_LNK), Int32(DT_UNKNOWN):
            var info = stat()
            guard lstat(path, &info) == 0 else { return .other }
            guard isFolder(path) else {
                var target = stat()
                let isLink = (info.st_mode & S_IFMT) == S_IFLNK
                return isLink && stat(path, &target) != 0 ? .dangling : .other
            }
            guard (info.st_mode & S_IFMT) == S_IFLNK else { return .folder }
            guard let target = realPath(path) else { return .other }
            return target == root || target.hasPrefix(root + "/") ? .folder : .outside(target: target)
        default: return .other
        }
    }

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
