/// Cross-field checks of a read job file: names, references, cycles,
/// placeholders. Reports into the same problem list as reading does.
enum JobValidator {
    static func validate(_ draft: DraftJob, _ tree: inout YAMLTree) -> Job? {
        let study = checkStudy(draft, &tree)
        let subjects = checkSubjects(draft, &tree)
        let source = checkSubjectSource(draft, &tree)
        let stages = checkStages(draft, subjects: subjects, &tree)
        if let workdir = draft.workdir, workdir.contains("\0") {
            tree.report(line: nil, "workdir", "must not contain a NUL character")
        }
        guard let study, tree.problems.isEmpty else { return nil }
        // (Reading problems may have been found before these checks; the caller reports all.)
        return Job(study: study, workdir: draft.workdir ?? "out", subjects: subjects, subjectSource: source,
                   environment: draft.environment, setup: draft.setup, stages: stages)
    }

    private static func checkStudy(_ draft: DraftJob, _ tree: inout YAMLTree) -> String? {
        guard let (study, line) = draft.study else {
            if !draft.present.contains("study") { tree.report(line: 1, "study", "missing (the study's name, e.g. study: ds001)") }
            return nil
        }
        if let problem = Identifier.problem(with: study) {
            tree.report(line: line, "study", problem)
            return nil
        }
        return study
    }

    /// `dataset: {bids: PATH}` or `subjects: {file: PATH}` instead of a list.
    private static func checkSubjectSource(_ draft: DraftJob, _ tree: inout YAMLTree) -> SubjectSource {
        func checkPath(_ path: String, _ line: Int?, _ field: String) {
            if path.isEmpty { tree.report(line: line, field, "must not be empty") }
            if path.contains("\0") { tree.report(line: line, field, "must not contain a NUL character") }
        }
        if let (path, line) = draft.bids {
            checkPath(path, line, "dataset.bids")
            if draft.subjects != nil || draft.subjectsFile != nil {
                tree.report(line: line, "dataset", "give either dataset or subjects, not both (a BIDS dataset's subjects are its sub-* folders)")
            }
            if draft.sessions != nil {
                tree.report(line: draft.sessionsLine, "sessions", "a BIDS dataset's sessions are the ses-* folders of each subject; remove sessions")
            }
            return .bids(path: path, line: line ?? 0)
        }
        if let (path, line) = draft.subjectsFile {
            checkPath(path, line, "subjects.file")
            var sessions: [String] = []
            switch draft.sessions {
            case nil: break
            case .forAll(let list): sessions = checkSessions(list, field: "sessions", &tree)
            case .perSubject:
                tree.report(line: draft.sessionsLine, "sessions", "with subjects from a file, sessions is one list for every subject")
            }
            return .file(path: path, line: line ?? 0, sessions: sessions)
        }
        return .listed
    }

    private static func checkSubjects(_ draft: DraftJob, _ tree: inout YAMLTree) -> [Subject] {
        var names = draft.subjects ?? []
        if draft.subjects == nil, draft.subjectsFile == nil, draft.bids == nil, case .perSubject(let entries) = draft.sessions {
            names = entries.map { ($0.subject, $0.line) }
        }
        var seen: Set<String> = []
        var subjects: [Subject] = []
        for (index, (name, line)) in names.enumerated() {
            let field = "subjects[\(index)]"
            if let problem = Identifier.problem(with: name) {
                tree.report(line: line, field, problem)
            } else if !seen.insert(name).inserted {
                tree.report(line: line, field, "subject \(quoted(name)) is listed twice")
            } else {
                subjects.append(Subject(name: name, sessions: []))
            }
        }
        guard draft.subjectsFile == nil, draft.bids == nil else { return [] }
        switch draft.sessions {
        case nil:
            break
        case .forAll(let sessions):
            let checked = checkSessions(sessions, field: "sessions", &tree)
            for index in subjects.indices { subjects[index].sessions = checked }
        case .perSubject(let entries):
            for entry in entries {
                let field = "sessions.\(entry.subject)"
                guard let index = subjects.firstIndex(where: { $0.name == entry.subject }) else {
                    let known = subjects.map(\.name)
                    tree.report(line: entry.line, field, "unknown subject \(quoted(entry.subject))\(suggestion(for: entry.subject, among: known))")
                    continue
                }
                subjects[index].sessions = checkSessions(entry.sessions, field: field, &tree)
            }
        }
        return subjects
    }

    private static func checkSessions(_ sessions: [(String, Int?)], field: String, _ tree: inout YAMLTree) -> [String] {
        var seen: Set<String> = []
        var checked: [String] = []
        for (index, (name, line)) in sessions.enumerated() {
            if let problem = Identifier.problem(with: name) {
                tree.report(line: line, "\(field)[\(index)]", problem)
            } else if !seen.insert(name).inserted {
                tree.report(line: line, "\(field)[\(index)]", "session \(quoted(name)) is listed twice")
            } else {
                checked.append(name)
            }
        }
        return checked
    }

    private static func checkStages(_ draft: DraftJob, subjects: [Subject], _ tree: inout YAMLTree) -> [Stage] {
        if draft.stages.isEmpty {
            // Stages that were there but could not be read are reported already.
            let unreadable = tree.problems.contains { $0.field.hasPrefix("stages") }
            if !draft.present.contains("stages") {
                tree.report(line: 1, "stages", "missing (the list of stages to run)")
            } else if !unreadable {
                tree.report(line: draft.stagesLine, "stages", "no stages")
            }
            return []
        }
        var stages: [Stage] = []
        var firstLine: [String: Int?] = [:]
        for draftStage in draft.stages {
            stages.append(checkStage(draftStage, draft: draft, firstLine: &firstLine, &tree))
        }
        resolveDependencies(draft, &stages, &tree)
        resolveForeach(draft, &stages, &tree)
        if tree.problems.isEmpty, let cycle = StageCycle.find(in: stages) {
            let path = (cycle + [cycle[0]]).map { stages[$0].name }.joined(separator: " -> ")
            tree.report(line: stages[cycle[0]].line, "stages[\(cycle[0])].after", "dependency cycle: \(path)")
        }
        return stages
    }

    /// One stage's own fields; names seen so far catch duplicates.
    private static func checkStage(
        _ draftStage: DraftStage, draft: DraftJob, firstLine: inout [String: Int?], _ tree: inout YAMLTree
    ) -> Stage {
        let field = "stages[\(draftStage.index)]"
        var stage = Stage(name: "", domain: .study, command: "", dependencies: [], line: draftStage.line ?? 0)
        if let name = draftStage.name {
            if let problem = Identifier.problem(with: name) {
                tree.report(line: draftStage.line, "\(field).name", problem)
            } else if name.hasPrefix(".") {
                tree.report(line: draftStage.line, "\(field).name", "\(quoted(name)) starts with '.'; such folders in the workdir are Cohort's own (.attempts)")
            } else if let earlier = firstLine[name] {
                tree.report(line: draftStage.line, "\(field).name", "stage \(quoted(name)) is defined twice (first at line \(earlier.map(String.init) ?? "?"))")
            } else {
                firstLine[name] = draftStage.line
            }
            stage.name = name
        } else if !draftStage.present.contains("name") {
            tree.report(line: draftStage.line, "\(field).name", "missing")
        }
        if draftStage.present.contains("foreach") {
            // Its level is its generator's (and one below), set once stages are resolved.
            if let (_, line) = draftStage.domain {
                tree.report(line: line, "\(field).domain", "a foreach stage runs once per item its generator lists, at the generator's level; remove domain")
            }
        } else if let (text, line) = draftStage.domain {
            if let domain = Domain(rawValue: text) {
                stage.domain = domain
            } else {
                tree.report(line: line, "\(field).domain", "\(quoted(text)) is not a domain; use study, subject or session")
            }
        } else if !draftStage.present.contains("domain") {
            tree.report(line: draftStage.line, "\(field).domain", "missing (study, subject or session)")
        }
        if let (run, line) = draftStage.run {
            if run.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
                tree.report(line: line, "\(field).run", "is empty")
            } else if run.contains("\0") {
                tree.report(line: line, "\(field).run", "contains a NUL character")
            }
            stage.command = run
            stage.runLine = line ?? stage.line
            if !draftStage.present.contains("foreach") {
                checkPlaceholders(run, domain: stage.domain, field: "\(field).run", line: line, &tree)
            }
        } else if !draftStage.present.contains("run") {
            tree.report(line: draftStage.line, "\(field).run", "missing (the shell command to run)")
        }
        func convert<T>(_ value: (String, Int?)?, _ key: String, _ parse: (String) -> T?, expected: String, _ store: (T) -> Void) {
            guard let (text, line) = value else { return }
            if let parsed = parse(text) { store(parsed) } else { tree.report(line: line, "\(field).\(key)", "\(quoted(text)) is not \(expected)") }
        }
        convert(draftStage.cpus, "cpus", { Quantity.integer($0, in: 1...100_000) },
                expected: "a whole number of cpus from 1 to 100000") { stage.cpus = $0 }
        convert(draftStage.memory, "memory", Quantity.bytes, expected: "a memory size like 512M or 4G") { stage.memory = $0 }
        convert(draftStage.gpus, "gpus", { Quantity.integer($0, in: 0...64) },
                expected: "a whole number of GPUs from 0 to 64") { stage.gpus = $0 }
        convert(draftStage.nodes, "nodes", { Quantity.integer($0, in: 1...1024) },
                expected: "a whole number of nodes from 1 to 1024") { stage.nodes = $0 }
        convert(draftStage.retries, "retries", { Quantity.integer($0, in: 0...100) },
                expected: "a whole number of retries from 0 to 100") { stage.retries = $0 }
        convert(draftStage.timeout, "timeout", Quantity.seconds,
                expected: "a duration like 90s, 30m, 2h or 1h30m") { stage.timeout = $0 }
        if let (label, line) = draftStage.on {
            if let problem = Identifier.problem(with: label) {
                tree.report(line: line, "\(field).on", problem)
            } else {
                stage.on = label
            }
        }
        convert(draftStage.priority, "priority", { Quantity.signedInteger($0, in: -1000...1000) },
                expected: "a whole number from -1000 to 1000") { stage.priority = $0 }
        stage.setup = draftStage.setup
        if let (text, line) = draftStage.items {
            switch text {
            case "true", "yes": stage.listsItems = true
            case "false", "no": stage.listsItems = false
            default: tree.report(line: line, "\(field).items", "\(quoted(text)) is not true or false")
            }
        }
        checkWatch(draftStage, field: field, &stage, &tree)
        var lockNames: Set<String> = []
        for (lock, line) in draftStage.locks {
            if let problem = Identifier.problem(with: lock.name) {
                tree.report(line: line, "\(field).locks", problem)
            } else if !lockNames.insert(lock.name).inserted {
                tree.report(line: line, "\(field).locks", "lock \(quoted(lock.name)) is named twice")
            } else {
                stage.locks.append(lock)
            }
        }
        if stage.domain == .session, draft.sessions == nil, !draft.present.contains("dataset"), draftStage.domain != nil {
            tree.report(line: draftStage.domain?.1, "\(field).domain", "stage \(quoted(stage.name)) is per session, but the job lists no sessions")
        }
        if stage.domain != .study, !draft.present.contains("subjects"), draft.sessions == nil, !draft.present.contains("dataset"),
           draftStage.domain != nil {
            tree.report(line: draftStage.domain?.1, "\(field).domain", "stage \(quoted(stage.name)) is per \(stage.domain.rawValue), but the job lists no subjects")
        }
        return stage
    }

    private static func resolveDependencies(_ draft: DraftJob, _ stages: inout [Stage], _ tree: inout YAMLTree) {
        let names = stages.map(\.name)
        var indexOf: [String: Int] = [:]
        for (index, name) in names.enumerated() where indexOf[name] == nil { indexOf[name] = index }
        for (index, draftStage) in draft.stages.enumerated() {
            guard let after = draftStage.after else {
                stages[index].dependencies = index == 0 ? [] : [index - 1]
                continue
            }
            var dependencies: [Int] = []
            for (position, (name, line)) in after.enumerated() {
                if let target = indexOf[name] {
                    if !dependencies.contains(target) { dependencies.append(target) }
                } else {
                    tree.report(line: line, "stages[\(index)].after[\(position)]", "unknown stage \(quoted(name))\(suggestion(for: name, among: names))")
                }
            }
            stages[index].dependencies = dependencies
        }
    }

    /// `foreach: GENERATOR` (DESIGN §8): the generator must list items; the
    /// stage takes its level, always waits for it, and may wait on item
    /// stages of that generator only (an item of another generator is not
    /// on its branch).
    private static func resolveForeach(_ draft: DraftJob, _ stages: inout [Stage], _ tree: inout YAMLTree) {
        let names = stages.map(\.name)
        for (index, draftStage) in draft.stages.enumerated() {
            guard let (name, line) = draftStage.foreach else { continue }
            let field = "stages[\(index)].foreach"
            guard let generator = names.firstIndex(of: name) else {
                tree.report(line: line, field, "unknown stage \(quoted(name))\(suggestion(for: name, among: names))")
                continue
            }
            if generator == index {
                tree.report(line: line, field, "a stage cannot run once per item it lists itself")
                continue
            }
            if !stages[generator].listsItems {
                // An unreadable `items:` is reported at the generator already.
                if let (text, _) = draft.stages[generator].items, !["true", "yes", "false", "no"].contains(text) { continue }
                tree.report(line: line, field, "stage \(quoted(name)) lists no items; give it items: true (it writes them to $COHORT_ITEMS)")
                continue
            }
            if stages[index].listsItems {
                tree.report(line: draftStage.items?.1 ?? line, "stages[\(index)].items", "a foreach stage cannot list items itself (items within items are not supported)")
                continue
            }
            if stages[generator].foreach != nil { continue }  // reported at the generator: items within items
            stages[index].foreach = generator
            stages[index].domain = stages[generator].domain
            if !stages[index].dependencies.contains(generator) { stages[index].dependencies.append(generator) }
            if let (run, runLine) = draftStage.run {
                checkPlaceholders(run, domain: stages[index].domain, item: true, field: "stages[\(index)].run", line: runLine, &tree)
            }
        }
        // A study-tree stage that waits on an item stage also waits for the
        // generators on its branch: a session whose import listed nothing
        // has no items to wait for, yet must not run before the list exists.
        for index in stages.indices where stages[index].foreach == nil {
            for dependency in stages[index].dependencies {
                if let generator = stages[dependency].foreach, !stages[index].dependencies.contains(generator) {
                    stages[index].dependencies.append(generator)
                }
            }
        }
        for (index, stage) in stages.enumerated() where stage.foreach != nil {
            for dependency in stage.dependencies {
                if let other = stages[dependency].foreach, other != stage.foreach {
                    tree.report(line: draft.stages[index].afterLine ?? stage.line, "stages[\(index)].after",
                                "stage \(quoted(stages[dependency].name)) runs per item of \(quoted(stages[other].name)), this one per item of \(quoted(stages[stage.foreach ?? 0].name)); an item stage waits only on item stages of its own generator")
                }
            }
        }
    }

    /// `watch:` and `until:` (DESIGN §8): only a generator watches, and
    /// `until` names a file per instance, with the placeholders of `run`.
    private static func checkWatch(_ draftStage: DraftStage, field: String, _ stage: inout Stage, _ tree: inout YAMLTree) {
        if let (text, line) = draftStage.watch {
            if let seconds = Quantity.seconds(text) {
                stage.watch = seconds
                if !stage.listsItems {
                    tree.report(line: line, "\(field).watch", "only a stage with items: true watches (it runs again to list the items that appeared)")
                }
            } else {
                tree.report(line: line, "\(field).watch", "\(quoted(text)) is not a duration like 30s, 5m or 1h (how long between looks)")
            }
        }
        guard let (until, line) = draftStage.until else { return }
        if !draftStage.present.contains("watch") {
            tree.report(line: line, "\(field).until", "ends a watch, but the stage has no watch: add watch: 60s (how often to look)")
        } else if until.allSatisfy({ $0 == " " || $0 == "\t" }) {
            tree.report(line: line, "\(field).until", "is empty (the file whose existence ends the watch)")
        } else if until.contains(where: { $0.isNewline || $0 == "\0" }) {
            tree.report(line: line, "\(field).until", "holds a line break or NUL; name one file")
        } else {
            checkPlaceholders(until, domain: stage.domain, field: "\(field).until", line: line, &tree)
            stage.until = until
        }
    }

    private static func checkPlaceholders(_ run: String, domain: Domain, item: Bool = false, field: String, line: Int?,
                                          _ tree: inout YAMLTree) {
        for placeholder in Set(CommandTemplate.placeholders(in: run)) {
            let needs: Domain? = switch placeholder {
            case .subject: .subject
            case .session: .session
            case .study, .workdir, .item: nil
            }
            if let needs, needs.depth > domain.depth {
                tree.report(line: line, field, "{\(placeholder.rawValue)} has no value in a stage per \(domain.rawValue)")
            }
            if placeholder == .item && !item {
                tree.report(line: line, field, "{item} has a value only in a foreach stage (one instance per item of a generator)")
            }
        }
        for (word, meant) in CommandTemplate.mistypedPlaceholders(in: run) {
            let known = CommandTemplate.Placeholder.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")
            tree.report(line: line, field, "unknown placeholder {\(word)} (did you mean {\(meant.rawValue)}?); placeholders are \(known)")
        }
    }
}
