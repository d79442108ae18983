/// How the study's subjects and sessions differ from those the journal
/// last recorded (DESIGN §8): a run journals it at its start, so the
/// journal says which tree each run saw, and the plan says what appeared
/// or went since (a BIDS folder gained a subject, a participants.tsv lost
/// a row, the job file's list was edited). What reruns because of it is
/// lineage's business: the instances of a new subject are new, and those
/// that waited on a vanished one have other inputs now.
public struct StudyTreeChange: Equatable, Sendable {
    /// Where the subjects came from (`SubjectSource.word`).
    public var source: String
    /// Subjects the last recorded tree did not have, with their sessions.
    public var new: [Subject]
    /// Subjects whose sessions are not those recorded, with their sessions now.
    public var changed: [Subject]
    /// Subjects of the last recorded tree that are not in this one.
    public var gone: [String]
    public var time: Double

    public init(source: String, new: [Subject], changed: [Subject], gone: [String], time: Double) {
        self.source = source
        self.new = new
        self.changed = changed
        self.gone = gone
        self.time = time
    }

    /// What to record when the tree is `now` and the journal holds
    /// `recorded` (nil: no tree recorded yet, everything is new); nil when
    /// they agree and the source is the same.
    public static func between(recorded: RecordedTree?, now: [Subject], source: String, time: Double) -> StudyTreeChange? {
        var new: [Subject] = []
        var changed: [Subject] = []
        var present: Set<String> = []
        present.reserveCapacity(now.count)
        for subject in now {
            present.insert(subject.name)
            switch recorded?.sessions[subject.name] {
            case nil: new.append(subject)
            case let sessions? where sessions != subject.sessions: changed.append(subject)
            default: break
            }
        }
        let gone = (recorded?.sessions.keys).map { $0.filter { !present.contains($0) }.sorted() } ?? []
        guard recorded == nil || recorded?.source != source || !new.isEmpty || !changed.isEmpty || !gone.isEmpty else { return nil }
        return StudyTreeChange(source: source, new: new, changed: changed, gone: gone, time: time)
    }

    /// One line for the plan: "subjects since the last run: 2 new (sub-05,
    /// sub-06), 1 gone (sub-03; results left on disk)"; nil when no subject changed.
    public var summary: String? {
        func some(_ names: [String]) -> String {
            let shown = names.prefix(5).joined(separator: ", ")
            return names.count > 5 ? shown + ", …" : shown
        }
        var parts: [String] = []
        if !new.isEmpty { parts.append("\(new.count) new (\(some(new.map(\.name))))") }
        if !changed.isEmpty { parts.append("\(changed.count) with other sessions (\(some(changed.map(\.name))))") }
        if !gone.isEmpty { parts.append("\(gone.count) gone (\(some(gone)); results left on disk)") }
        return parts.isEmpty ? nil : "subjects since the last run: " + parts.joined(separator: ", ")
    }

    /// A subject as the journal writes it: its name, then `/session` for
    /// each session (`sub-02/` for one implicit session, bare for none).
    static func word(_ subject: Subject) -> String {
        subject.sessions.reduce(subject.name) { $0 + "/" + $1 }
    }

    /// The subject `word` wrote.
    static func subject(_ word: Substring) -> Subject {
        let parts = word.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        return Subject(name: parts[0], sessions: Array(parts.dropFirst()))
    }
}

/// The study tree the journal last recorded, and where it came from.
public struct RecordedTree: Equatable, Sendable {
    public var source: String
    /// Each subject's sessions.
    public var sessions: [String: [String]]

    public init(source: String, sessions: [String: [String]] = [:]) {
        self.source = source
        self.sessions = sessions
    }

    /// This tree with `change` applied.
    mutating func apply(_ change: StudyTreeChange) {
        source = change.source
        for name in change.gone { sessions[name] = nil }
        for subject in change.new + change.changed { sessions[subject.name] = subject.sessions }
    }
}

extension SubjectSource {
    /// How the journal names the source: `job` (the job file's lists),
    /// `bids:PATH`, `file:PATH`.
    public var word: String {
        switch self {
        case .listed: "job"
        case .bids(let path, _): "bids:" + path
        case .file(let path, _, _): "file:" + path
        }
    }
}
