internal import Yams

/// Turns job-file text into a validated `Job`, or every problem found.
///
/// Text, not a path: reading the file is the caller's thin wrapper. The text
/// is untrusted; see `YAMLGuard` for what is refused before parsing.
public enum JobLoader {
    /// Job files larger than this are refused before parsing (NOTES-YAML).
    public static let maximumBytes = 1 << 20
    static let topLevelKeys = ["study", "workdir", "subjects", "sessions", "dataset", "env", "setup", "stages"]
    static let stageKeys = ["name", "domain", "run", "after", "cpus", "gpus", "nodes", "memory", "retries", "timeout", "on", "priority", "locks", "setup",
                            "items", "foreach", "watch", "until"]

    public static func load(text: String, file: String) throws(JobFileError) -> Job {
        if let (line, message) = YAMLGuard.problem(with: text) {
            throw JobFileError(problems: [JobFileProblem(file: file, line: line, field: "", message: message)])
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw JobFileError(problems: [JobFileProblem(file: file, line: 1, field: "", message: "the file is empty")])
            }
            root = node
        } catch let error as JobFileError {
            throw error
        } catch {
            throw JobFileError(problems: [syntaxProblem(error, file: file)])
        }
        var tree = YAMLTree(file: file)
        let draft = readJob(root, &tree)
        // Cross-checks run even after reading problems, so one pass reports
        // everything; a field that was present but unreadable is not "missing".
        if let draft {
            let job = JobValidator.validate(draft, &tree)
            if tree.problems.isEmpty, let job { return job }
        }
        throw JobFileError(problems: tree.problems.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
    }

    /// Yams' parse errors, reduced to one located line.
    static func syntaxProblem(_ error: any Error, file: String) -> JobFileProblem {
        guard let yamlError = error as? YamlError else {
            return JobFileProblem(file: file, line: nil, field: "", message: "YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { "\($0.text), \(problem)" } ?? problem
            return JobFileProblem(file: file, line: mark.line, field: "", message: "YAML syntax: \(detail) (column \(mark.column))")
        case .reader(let problem, _, _, _):
            return JobFileProblem(file: file, line: nil, field: "", message: "YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map(quoted).joined(separator: ", ")
            return JobFileProblem(file: file, line: context.mark.line, field: "", message: "key \(names) appears twice")
        default:
            return JobFileProblem(file: file, line: nil, field: "", message: "YAML: \(yamlError)")
        }
    }

    private static func readJob(_ root: Node, _ tree: inout YAMLTree) -> DraftJob? {
        guard let pairs = tree.mapping(root, "") else { return nil }
        var draft = DraftJob()
        for (key, keyNode, value) in pairs {
            draft.present.insert(key)
            switch key {
            case "study":
                draft.study = tree.text(value, key).map { ($0, YAMLTree.line(of: value)) }
            case "workdir":
                draft.workdir = tree.text(value, key)
            case "subjects":
                if case .mapping = value {
                    draft.subjectsFile = readSource(value, key, kind: "file", &tree)
                } else {
                    draft.subjects = tree.textList(value, key)?.map { ($0.text, YAMLTree.line(of: $0.node)) }
                }
            case "dataset":
                draft.bids = readSource(value, key, kind: "bids", &tree)
            case "sessions":
                draft.sessions = readSessions(value, &tree)
                draft.sessionsLine = YAMLTree.line(of: keyNode)
            case "setup":
                draft.setup = tree.text(value, key)
            case "env":
                draft.environment = readEnvironment(value, &tree)
            case "stages":
                draft.stagesLine = YAMLTree.line(of: keyNode)
                if let items = tree.sequence(value, key) {
                    draft.stages = items.enumerated().compactMap { readStage($1, index: $0, &tree) }
                }
            default:
                tree.report(keyNode, key, "unknown key\(suggestion(for: key, among: topLevelKeys))")
            }
        }
        return draft
    }

    /// `subjects: {file: PATH}` or `dataset: {bids: PATH}`: the path, and the line of the mapping.
    private static func readSource(_ node: Node, _ field: String, kind: String, _ tree: inout YAMLTree) -> (String, Int?)? {
        guard let pairs = tree.mapping(node, field) else { return nil }
        var path: (String, Int?)?
        for (key, keyNode, value) in pairs {
            guard key == kind else {
                let example = kind == "bids" ? "dataset: {bids: path/to/bids}" : "subjects: {file: participants.txt}"
                tree.report(keyNode, "\(field).\(key)", "unknown key\(suggestion(for: key, among: [kind])) (\(example))")
                continue
            }
            if let text = tree.text(value, "\(field).\(key)") { path = (text, YAMLTree.line(of: value)) }
        }
        if path == nil && !tree.problems.contains(where: { $0.field.hasPrefix(field) }) {
            tree.report(node, "\(field).\(kind)", "missing (the path of the \(kind == "bids" ? "BIDS folder" : "file listing the subjects"))")
        }
        return path
    }

    /// `sessions:` is one list for every subject, or a mapping subject -> list.
    private static func readSessions(_ node: Node, _ tree: inout YAMLTree) -> DraftJob.Sessions? {
        if case .mapping = node {
            guard let pairs = tree.mapping(node, "sessions") else { return nil }
            var perSubject: [(subject: String, line: Int?, sessions: [(String, Int?)])] = []
            for (subject, keyNode, value) in pairs {
                let list = tree.textList(value, "sessions.\(subject)") ?? []
                perSubject.append((subject, YAMLTree.line(of: keyNode), list.map { ($0.text, YAMLTree.line(of: $0.node)) }))
            }
            return .perSubject(perSubject)
        }
        guard let list = tree.textList(node, "sessions") else { return nil }
        return .forAll(list.map { ($0.text, YAMLTree.line(of: $0.node)) })
    }

    private static func readEnvironment(_ node: Node, _ tree: inout YAMLTree) -> [EnvironmentVariable] {
        guard let pairs = tree.mapping(node, "env") else { return [] }
        var variables: [EnvironmentVariable] = []
        for (name, keyNode, value) in pairs {
            let field = "env.\(name)"
            if let problem = Identifier.variableNameProblem(with: name) {
                tree.report(keyNode, field, problem)
            } else if name.hasPrefix("COHORT_") {
                tree.report(keyNode, field, "names starting with COHORT_ are set by Cohort itself")
            }
            if case .scalar(let scalar) = value, YAMLTree.isNull(scalar) {
                variables.append(EnvironmentVariable(name: name, value: ""))
            } else if let text = tree.text(value, field) {
                variables.append(EnvironmentVariable(name: name, value: text))
            }
        }
        return variables
    }

    /// `locks: [atlas, {name: template, shared: true}]`.
    private static func readLocks(_ node: Node, _ field: String, _ tree: inout YAMLTree) -> [(StageLock, Int?)] {
        guard let items = tree.sequence(node, field) else { return [] }
        var locks: [(StageLock, Int?)] = []
        for (index, item) in items.enumerated() {
            let path = "\(field)[\(index)]"
            let line = YAMLTree.line(of: item)
            if case .mapping = item {
                guard let pairs = tree.mapping(item, path) else { continue }
                var name: String?
                var shared = false
                for (key, keyNode, value) in pairs {
                    switch key {
                    case "name": name = tree.text(value, "\(path).name")
                    case "shared":
                        switch tree.text(value, "\(path).shared") {
                        case "true", "yes": shared = true
                        case "false", "no": shared = false
                        case let other?: tree.report(value, "\(path).shared", "\(quoted(other)) is not true or false")
                        case nil: break
                        }
                    default: tree.report(keyNode, "\(path).\(key)", "unknown key\(suggestion(for: key, among: ["name", "shared"]))")
                    }
                }
                if let name { locks.append((StageLock(name: name, shared: shared), line)) } else { tree.report(item, "\(path).name", "missing") }
            } else if let name = tree.text(item, path) {
                locks.append((StageLock(name: name), line))
            }
        }
        return locks
    }

    private static func readStage(_ node: Node, index: Int, _ tree: inout YAMLTree) -> DraftStage? {
        let field = "stages[\(index)]"
        guard let pairs = tree.mapping(node, field) else { return nil }
        var stage = DraftStage(index: index, line: YAMLTree.line(of: node))
        for (key, keyNode, value) in pairs {
            let path = "\(field).\(key)"
            let line = YAMLTree.line(of: value)
            stage.present.insert(key)
            switch key {
            case "name": stage.name = tree.text(value, path)
            case "domain": stage.domain = tree.text(value, path).map { ($0, line) }
            case "run": stage.run = tree.text(value, path).map { ($0, line) }
            case "after":
                stage.after = (tree.textList(value, path) ?? []).map { ($0.text, YAMLTree.line(of: $0.node)) }
                stage.afterLine = line
            case "cpus": stage.cpus = tree.text(value, path).map { ($0, line) }
            case "gpus": stage.gpus = tree.text(value, path).map { ($0, line) }
            case "nodes": stage.nodes = tree.text(value, path).map { ($0, line) }
            case "memory": stage.memory = tree.text(value, path).map { ($0, line) }
            case "retries": stage.retries = tree.text(value, path).map { ($0, line) }
            case "timeout": stage.timeout = tree.text(value, path).map { ($0, line) }
            case "on": stage.on = tree.text(value, path).map { ($0, line) }
            case "priority": stage.priority = tree.text(value, path).map { ($0, line) }
            case "locks": stage.locks = readLocks(value, path, &tree)
            case "setup": stage.setup = tree.text(value, path)
            case "items": stage.items = tree.text(value, path).map { ($0, line) }
            case "foreach": stage.foreach = tree.text(value, path).map { ($0, line) }
            case "watch": stage.watch = tree.text(value, path).map { ($0, line) }
            case "until": stage.until = tree.text(value, path).map { ($0, line) }
            default:
                tree.report(keyNode, path, "unknown key\(suggestion(for: key, among: stageKeys))")
            }
        }
        return stage
    }
}

/// What the file said, before cross-checks; positions kept for messages.
struct DraftJob {
    enum Sessions {
        case forAll([(String, Int?)])
        case perSubject([(subject: String, line: Int?, sessions: [(String, Int?)])])
    }

    var study: (String, Int?)?
    var workdir: String?
    var subjects: [(String, Int?)]?
    /// `subjects: {file: PATH}`.
    var subjectsFile: (String, Int?)?
    /// `dataset: {bids: PATH}`.
    var bids: (String, Int?)?
    var sessions: Sessions?
    var sessionsLine: Int?
    var environment: [EnvironmentVariable] = []
    var setup: String?
    var stages: [DraftStage] = []
    var stagesLine: Int?
    /// Keys the file has, readable or not.
    var present: Set<String> = []
}

struct DraftStage {
    var index: Int
    var line: Int?
    var name: String?
    var domain: (String, Int?)?
    var run: (String, Int?)?
    var after: [(String, Int?)]?
    var afterLine: Int?
    var cpus: (String, Int?)?
    var gpus: (String, Int?)?
    var nodes: (String, Int?)?
    var memory: (String, Int?)?
    var retries: (String, Int?)?
    var timeout: (String, Int?)?
    var on: (String, Int?)?
    var priority: (String, Int?)?
    var locks: [(StageLock, Int?)] = []
    var setup: String?
    var items: (String, Int?)?
    var foreach: (String, Int?)?
    var watch: (String, Int?)?
    var until: (String, Int?)?
    /// Keys the stage has, readable or not.
    var present: Set<String> = []

    init(index: Int, line: Int?) {
        self.index = index
        self.line = line
    }
}
