/// The subjects and sessions of a BIDS dataset (DESIGN §8), decided from a
/// listing of its folders: no I/O here, the shell lists (`DatasetReader`).
///
/// Subjects are the `sub-*` folders of the root, sessions the `ses-*`
/// folders of each; a subject without any has one implicit session named
/// "" (so `{session}` and `COHORT_SESSION` are empty). With a
/// `participants.tsv`, only folders that have a row are subjects; a folder
/// without a row, or a row without a folder, is a located warning and is
/// not run. A name Cohort cannot use as a folder and shell word, or a
/// folder that is a symbolic link out of the dataset, is a warning too:
/// the rest of the study still runs.
public enum BIDSLayout {
    /// What the shell found on disk.
    public struct Listing: Sendable {
        /// The dataset's folder as messages name it (`jobs/bids/data`).
        public var root: String
        /// Every `sub-*` entry of the root, in any order.
        public var subjects: [SubjectEntry]
        /// The text of `participants.tsv`, if the root has one.
        public var participants: String?

        public init(root: String, subjects: [SubjectEntry], participants: String? = nil) {
            self.root = root
            self.subjects = subjects
            self.participants = participants
        }
    }

    /// What an entry of a listing is.
    public enum Kind: Sendable, Equatable {
        /// A folder (or a link to one inside the dataset).
        case folder
        /// A symbolic link to `target`, outside the dataset.
        case outside(target: String)
        /// A symbolic link to nothing (a file not fetched yet, a moved target).
        case dangling
        /// A folder that cannot be listed (no permission, an I/O error): why.
        case unreadable(String)
        /// A file, a dangling link, anything else: not a subject or session.
        case other
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var kind: Kind

        public init(_ name: String, _ kind: Kind = .folder) {
            self.name = name
            self.kind = kind
        }
    }

    /// A `sub-*` entry and the `ses-*` entries inside it (none when it is not a folder).
    public struct SubjectEntry: Sendable, Equatable {
        public var entry: Entry
        public var sessions: [Entry]

        public init(_ entry: Entry, sessions: [Entry] = []) {
            self.entry = entry
            self.sessions = sessions
        }
    }

    /// The study's subjects in name order, and a located warning for each
    /// folder or row left out: folders first (data that will not run), in
    /// path order, then the table's rows in line order.
    public static func subjects(in listing: Listing) -> (subjects: [Subject], warnings: [String]) {
        var folderWarnings: [(place: String, text: String)] = []
        var warnings: [String] = []
        let root = listing.root
        var found: [String: [String]] = [:]
        var leftOut: Set<String> = []
        for subject in listing.subjects {
            let place = root + "/" + escaped(subject.entry.name)
            var problems: [String] = []
            guard let name = usable(subject.entry, at: place, level: "subject", &problems) else {
                folderWarnings += problems.map { (place, $0) }
                leftOut.insert(subject.entry.name)
                continue
            }
            var sessions: [String] = []
            for session in subject.sessions {
                if let session = usable(session, at: place + "/" + escaped(session.name), level: "session", &problems) {
                    sessions.append(session)
                }
            }
            folderWarnings += problems.map { (place, $0) }
            // Its session folders exist but none can run (a plain file is no session): not a subject without sessions.
            let sessionFolders = subject.sessions.filter { $0.kind != .other }.count
            if sessions.isEmpty && sessionFolders > 0 {
                folderWarnings.append((place, "\(place): warning: none of its \(sessionFolders) ses-* entries is a usable session; not run"))
                leftOut.insert(name)
                continue
            }
            found[name] = sessions.isEmpty ? [""] : sessions.sorted()
        }
        if let text = listing.participants {
            let table = root + "/participants.tsv"
            switch ParticipantsTable.rows(of: text) {
            case .failure(let problem):
                warnings.append("\(table):\(problem.line): warning: \(problem.message); every sub-* folder is a subject")
            case .success(let rows):
                var listed: Set<String> = []
                for row in rows {
                    guard !row.id.isEmpty else {
                        warnings.append("\(table):\(row.line): warning: no participant_id in this row")
                        continue
                    }
                    // BIDS writes the prefix; a table without it still names the folder.
                    let name = row.id.hasPrefix("sub-") ? row.id : "sub-" + row.id
                    guard listed.insert(name).inserted else {
                        warnings.append("\(table):\(row.line): warning: \(quoted(row.id)) has a row already")
                        continue
                    }
                    if leftOut.contains(name) {
                        warnings.append("\(table):\(row.line): warning: \(quoted(row.id)): its folder is left out (above); not run")
                    } else if found[name] == nil {
                        warnings.append("\(table):\(row.line): warning: \(quoted(row.id)) has no folder \(root)/\(escaped(name)); not run")
                    }
                }
                for name in found.keys where !listed.contains(name) {
                    let place = "\(root)/\(name)"
                    folderWarnings.append((place, "\(place): warning: no row in participants.tsv; not run"))
                    found[name] = nil
                }
            }
        }
        // Names are identifiers (ASCII): String's order is byte order, the same everywhere.
        let subjects = found.keys.sorted().map { Subject(name: $0, sessions: found[$0] ?? [""]) }
        let folders = folderWarnings.enumerated().sorted { ($0.element.place, $0.offset) < ($1.element.place, $1.offset) }.map(\.element.text)
        return (subjects, folders + warnings)
    }

    /// The entry's name when it can be a subject or session, else nil with a warning.
    private static func usable(_ entry: Entry, at place: String, level: String, _ warnings: inout [String]) -> String? {
        switch entry.kind {
        case .other:
            return nil
        case .dangling:
            warnings.append("\(place): warning: a link to nothing; not a \(level), not run")
            return nil
        case .unreadable(let reason):
            // Its sessions cannot be known: never taken for a subject without any.
            warnings.append("\(place): warning: cannot list it (\(reason)); not run")
            return nil
        case .outside(let target):
            warnings.append("\(place): warning: a link out of the dataset (to \(quoted(target))); not a \(level), not run")
            return nil
        case .folder:
            if let problem = Identifier.problem(with: entry.name) {
                warnings.append("\(place): warning: not usable as a \(level) name (\(problem)); not run")
                return nil
            }
            return entry.name
        }
    }
}

/// The `participant_id` column of a BIDS `participants.tsv`.
public enum ParticipantsTable {
    public struct Row: Sendable, Equatable {
        public var id: String
        /// 1-based line in the file.
        public var line: Int
    }

    public struct Problem: Error, Sendable, Equatable {
        public var line: Int
        public var message: String
    }

    /// Every row's id ("" when the row has none), or why the table cannot be read.
    public static func rows(of text: String) -> Result<[Row], Problem> {
        var lines = textLines(text)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else { return .failure(Problem(line: 1, message: "empty, no header row")) }
        let columns = header.split(separator: "\t", omittingEmptySubsequences: false).map { column in
            let name = String(column).trimmingSpaces()
            return name.count >= 2 && name.hasPrefix("\"") && name.hasSuffix("\"") ? String(name.dropFirst().dropLast()) : name
        }
        guard let column = columns.firstIndex(of: "participant_id") else {
            return .failure(Problem(line: 1, message: "no participant_id column in the header"))
        }
        var rows: [Row] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.allSatisfy({ $0 == " " || $0 == "\t" }) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            var id = column < fields.count ? String(fields[column]).trimmingSpaces() : ""
            // Spreadsheets may quote values: "sub-01".
            if id.count >= 2, id.hasPrefix("\""), id.hasSuffix("\"") { id = String(id.dropFirst().dropLast()) }
            rows.append(Row(id: id, line: index + 1))
        }
        return .success(rows)
    }
}

/// `text`'s lines, for files people edit anywhere: "\r\n" ends a line too
/// (one Character in Swift, so splitting on "\n" alone would miss it), and
/// a leading byte-order mark (spreadsheets write one) is not part of the first.
func textLines(_ text: String) -> [Substring] {
    let body = text.hasPrefix("\u{FEFF}") ? text.dropFirst() : Substring(text)
    return body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
}
