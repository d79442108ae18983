/// Which instances a run may start: `--only STAGE[:SUBJECT[:SESSION]]`
/// (repeatable) and `--subjects a,b` (DESIGN §2). Instances outside the
/// selection are left alone; an instance inside it that waits for one
/// outside runs only if that one is done already.
public struct Selection: Sendable {
    /// `stage:subject:session` patterns; a missing part matches everything.
    public private(set) var patterns: [(stage: Int, subject: Int?, session: String?)] = []
    public private(set) var subjects: Set<Int>?

    public static let everything = Selection()

    public init() {}

    /// Parses the options against `graph`'s job; every error names what is wrong.
    public init(only: [String], subjects names: [String], graph: InstanceGraph) throws(SelectionError) {
        let job = graph.job
        let subjectNames = job.subjects.map(\.name)
        func subjectIndex(_ name: String, _ option: String) throws(SelectionError) -> Int {
            guard let index = subjectNames.firstIndex(of: name) else {
                throw SelectionError(description: "\(option) \(name): no subject \(quoted(name))\(suggestion(for: name, among: subjectNames))")
            }
            return index
        }
        for spec in only.flatMap({ $0.split(separator: ",").map(String.init) }) {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (1...3).contains(parts.count), let stage = job.stageIndex(named: parts[0]) else {
                let names = job.stages.map(\.name)
                throw SelectionError(description: "--only \(spec): expected STAGE[:SUBJECT[:SESSION]] with a stage of this job\(parts.first.map { suggestion(for: $0, among: names) } ?? "")")
            }
            let domain = job.stages[stage].domain
            // `realign:sub-03:` from a script with an empty session variable: the
            // implicit session's instance is `realign:sub-03`; say so rather than match nothing.
            if parts.dropFirst().contains("") {
                let trimmed = parts.reversed().drop { $0.isEmpty }.reversed().joined(separator: ":")
                throw SelectionError(description: "--only \(spec): an empty name part; a subject without sessions is named without one (\(trimmed))")
            }
            guard parts.count <= domain.depth + 1 else {
                throw SelectionError(description: "--only \(spec): stage \(parts[0]) runs once per \(domain.rawValue); name at most \(["STAGE", "STAGE:SUBJECT", "STAGE:SUBJECT:SESSION"][domain.depth])")
            }
            let subject = parts.count > 1 ? try subjectIndex(parts[1], "--only \(spec):") : nil
            if parts.count > 2, let subject, !job.subjects[subject].sessions.contains(parts[2]) {
                throw SelectionError(description: "--only \(spec): subject \(parts[1]) has no session \(quoted(parts[2]))")
            }
            patterns.append((stage, subject, parts.count > 2 ? parts[2] : nil))
        }
        let wanted = names.flatMap { $0.split(separator: ",").map(String.init) }
        if !wanted.isEmpty {
            var set: Set<Int> = []
            for name in wanted { set.insert(try subjectIndex(name, "--subjects")) }
            subjects = set
        }
    }

    public var isEverything: Bool { patterns.isEmpty && subjects == nil }

    /// Whether `instance` may start in this run.
    public func contains(_ instance: InstanceID, in graph: InstanceGraph) -> Bool {
        if isEverything { return true }
        let place = graph.coordinates(of: instance)
        if let subjects {
            guard let subject = place.subject, subjects.contains(subject) else { return false }
        }
        guard !patterns.isEmpty else { return true }
        return patterns.contains { pattern in
            guard pattern.stage == place.stage else { return false }
            if let subject = pattern.subject, subject != place.subject { return false }
            if let session = pattern.session, session != place.session.map(graph.sessionName) { return false }
            return true
        }
    }
}

public struct SelectionError: Error, CustomStringConvertible {
    public var description: String
}
