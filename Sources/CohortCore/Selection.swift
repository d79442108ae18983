/// Which instances a run may start: `--only STAGE[:SUBJECT[:SESSION[:ITEM]]]`
/// (repeatable) and `--subjects a,b` (DESIGN §2). Instances outside the
/// selection are left alone; an instance inside it that waits for one
/// outside runs only if that one is done already.
public struct Selection: Sendable {
    /// `stage:subject:session:item` patterns; a missing part matches everything.
    public private(set) var patterns: [Pattern] = []

    public struct Pattern: Sendable {
        public var stage: Int
        public var subject: Int?
        public var session: String?
        /// Of a foreach stage's instance (DESIGN §8).
        public var item: String?
        /// As given, for messages.
        public var spec: String
    }

    /// `--only` naming a foreach stage (or its items) whose generator there
    /// has not listed yet and is not selected: nothing could run, so the
    /// user is told to run the generator too.
    public func itemsNotListedYet(in graph: InstanceGraph) -> SelectionError? {
        for pattern in patterns {
            guard let generatorStage = graph.job.stages[pattern.stage].foreach else { continue }
            for index in graph.instances(ofStage: generatorStage) {
                let generator = InstanceID(index)
                let place = graph.coordinates(of: generator)
                if let subject = pattern.subject, subject != place.subject { continue }
                if let session = pattern.session, session != place.session.map(graph.sessionName) { continue }
                // A subject left out by --subjects: nothing of it runs anyway.
                if let subjects, let subject = place.subject, !subjects.contains(subject) { continue }
                if !graph.hasListed(generator, forStage: pattern.stage) && !contains(generator, in: graph) {
                    let generatorName = graph.job.stages[generatorStage].name
                    return SelectionError(description: "--only \(pattern.spec): \(graph.name(of: generator)) has not listed its items yet; select it too (--only \(generatorName),\(pattern.spec))")
                }
            }
        }
        return nil
    }

    /// An item named in `--only` that its generator's list, known from the
    /// journal, lacks: a typo. (An item not listed yet may appear during
    /// the run: a generator still watching, named in `watching`, that this
    /// selection runs.) Checked once `graph` holds the journaled lists.
    public func unlistedItem(in graph: InstanceGraph, watching: Set<String> = []) -> SelectionError? {
        for pattern in patterns {
            guard let item = pattern.item, let generatorStage = graph.job.stages[pattern.stage].foreach else { continue }
            let session = pattern.subject.flatMap { subject in
                pattern.session.flatMap { graph.job.subjects[subject].sessions.firstIndex(of: $0) }.map { graph.sessionStarts[subject] + $0 }
            }
            let domain = graph.job.stages[generatorStage].domain
            guard let generator = graph.instance(ofStage: generatorStage, subject: pattern.subject,
                                                 session: domain == .session ? session : nil) else { continue }
            // Still watching, and looking in this run: it may list the item later.
            if graph.job.stages[generatorStage].watch != nil, watching.contains(graph.name(of: generator)), contains(generator, in: graph) {
                continue
            }
            let listed = graph.itemInstances(ofStage: pattern.stage, generator: generator).joined().compactMap { graph.item(of: InstanceID($0)) }
            if !listed.isEmpty, !listed.contains(item) {
                return SelectionError(description: "--only \(pattern.spec): \(graph.name(of: generator)) lists no item \(quoted(item))\(suggestion(for: item, among: listed))")
            }
        }
        return nil
    }
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
        for spec in only.flatMap({ Self.words($0, job: job) }) {
            patterns.append(try Self.pattern(spec, graph: graph, subjectIndex: subjectIndex))
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
            if let item = pattern.item, item != graph.item(of: instance) { return false }
            return true
        }
    }
}

extension Selection {
    /// `--only a,b`: the words, split at commas, except that a piece which
    /// names no stage goes on the item before it (an item may hold a comma:
    /// `mc:g1:s1:m,2.tif`).
    static func words(_ text: String, job: Job) -> [String] {
        func stage(_ word: String) -> Stage? { job.stageIndex(named: String(word.prefix { $0 != ":" })).map { job.stages[$0] } }
        var words: [String] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if let last = words.last, stage(piece) == nil, stage(last)?.foreach != nil, last.contains(":") {
                words[words.count - 1] += "," + piece
            } else {
                words.append(piece)
            }
        }
        return words
    }

    /// One `--only` word. An item may hold `:` (a path may): it is all that
    /// follows its instance's levels. A subject whose one session is the
    /// implicit one (a BIDS subject without ses-*) has no session part.
    static func pattern(_ spec: String, graph: InstanceGraph,
                        subjectIndex: (String, String) throws(SelectionError) -> Int) throws(SelectionError) -> Pattern {
        let job = graph.job
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let stage = job.stageIndex(named: parts[0]) else {
            throw SelectionError(description: "--only \(spec): expected STAGE[:SUBJECT[:SESSION[:ITEM]]] with a stage of this job\(suggestion(for: parts[0], among: job.stages.map(\.name)))")
        }
        let domain = job.stages[stage].domain
        let perItem = job.stages[stage].foreach != nil
        var levels = domain.depth
        var subject: Int?
        if parts.count > 1, levels >= 1, !parts[1].isEmpty {
            subject = try subjectIndex(parts[1], "--only \(spec):")
            // `mc:sub-03:movie.tif`: sub-03 has the implicit session only.
            if levels == 2, perItem, job.subjects[subject!].sessions == [""] { levels = 1 }
        }
        let levelParts = Array(parts.prefix(1 + levels))
        let item = perItem && parts.count > 1 + levels ? parts.dropFirst(1 + levels).joined(separator: ":") : nil
        // `realign:sub-03:` from a script with an empty session variable: the
        // implicit session's instance is `realign:sub-03`; say so rather than match nothing.
        if levelParts.dropFirst().contains("") || item == "" {
            let trimmed = parts.reversed().drop { $0.isEmpty }.reversed().joined(separator: ":")
            throw SelectionError(description: "--only \(spec): an empty name part; a subject without sessions is named without one (\(trimmed))")
        }
        guard perItem || parts.count <= levels + 1 else {
            throw SelectionError(description: "--only \(spec): stage \(parts[0]) runs once per \(domain.rawValue); name at most \(["STAGE", "STAGE:SUBJECT", "STAGE:SUBJECT:SESSION"][levels])")
        }
        if levelParts.count > 2, let subject, !job.subjects[subject].sessions.contains(levelParts[2]) {
            throw SelectionError(description: "--only \(spec): subject \(parts[1]) has no session \(quoted(levelParts[2]))")
        }
        let session = levelParts.count > 2 ? levelParts[2] : (levels < domain.depth ? "" : nil)
        return Pattern(stage: stage, subject: subject, session: session, item: item, spec: spec)
    }
}

public struct SelectionError: Error, CustomStringConvertible {
    public var description: String
}
