/// What an instance's result is made from, apart from its inputs: the
/// hashes the journal keeps with each success (DESIGN §5). When any part
/// differs from the success's, the result is out of date.
///
/// Each part is kept separately so that a rerun can say which one changed;
/// scheduling settings (`cpus`, `memory`, `retries`, `timeout`, `priority`,
/// `locks`, `on`) are not part of it and never trigger a rerun.
public struct InstanceDefinition: Hashable, Sendable {
    /// The `run` line as the instance runs it: the template, the values it
    /// substitutes (the workdir as the job file writes it, so that moving
    /// the job's folder changes nothing) and the domain.
    public var run: UInt64
    /// The job's `env`.
    public var environment: UInt64
    /// The job's and the stage's `setup`.
    public var setup: UInt64
    /// The content of the module script the `run` line names (0 when it names none).
    public var script: UInt64

    public init(run: UInt64, environment: UInt64, setup: UInt64, script: UInt64) {
        self.run = run
        self.environment = environment
        self.setup = setup
        self.script = script
    }

    /// Which part changed from `earlier`, in the order a user thinks of them; nil when none did.
    public func change(from earlier: InstanceDefinition) -> ResumePlan.Reason? {
        if run != earlier.run { return .runChanged }
        if script != earlier.script { return .scriptChanged }
        if setup != earlier.setup { return .setupChanged }
        if environment != earlier.environment { return .environmentChanged }
        return nil
    }

    /// `run.environment.setup.script`, 16 hex digits each: the journal's text.
    public var text: String {
        [run, environment, setup, script].map(hex16).joined(separator: ".")
    }

    public init?(text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ $0.count == 16 }) else { return nil }
        let values = parts.compactMap { UInt64($0, radix: 16) }
        guard values.count == 4 else { return nil }
        self.init(run: values[0], environment: values[1], setup: values[2], script: values[3])
    }
}

/// Computes every instance's definition for one job: the stage-wide parts
/// once per stage, the `run` part per instance.
public struct Definitions: Sendable {
    /// Grows with the run's items (`withGraph`).
    public private(set) var graph: InstanceGraph
    private let stageParts: [(environment: UInt64, setup: UInt64, script: UInt64, runPrefix: FNV1a)]
    /// Per stage, the script part as the earlier reading of run lines made
    /// it (see `ScriptReference.pathAsReadBefore`), where it differs.
    private let earlierScripts: [UInt64?]

    /// `scriptDigests[stage]`: a hash of the content of the module script the
    /// stage's `run` line names, nil when it names none (read by the caller:
    /// the core does no I/O).
    ///
    /// `earlierScriptDigests[stage]`: the digest of the script the earlier
    /// reading of run lines found (nil: none); a success journaled with it
    /// is not out of date for that reason alone, so that upgrading Cohort
    /// does not rerun a study.
    public init(graph: InstanceGraph, scriptDigests: [UInt64?], earlierScriptDigests: [UInt64?]? = nil) {
        precondition(scriptDigests.count == graph.job.stages.count, "one script digest per stage")
        self.graph = graph
        earlierScripts = zip(scriptDigests, earlierScriptDigests ?? scriptDigests).map { current, earlier in
            (earlier ?? 0) == (current ?? 0) ? nil : earlier ?? 0
        }
        let job = graph.job
        var environment = FNV1a()
        // By name: reordering `env:` changes nothing a module sees.
        for variable in job.environment.sorted(by: { $0.name < $1.name }) {
            environment.add(variable.name)
            environment.add(variable.value)
        }
        stageParts = job.stages.indices.map { index in
            var setup = FNV1a()
            setup.add(job.setup ?? "")
            setup.add(job.stages[index].setup ?? "")
            var runPrefix = FNV1a()
            runPrefix.add(job.stages[index].command)
            runPrefix.add(job.study)
            return (environment.value, setup.value, scriptDigests[index] ?? 0, runPrefix)
        }
    }

    /// Definitions of a job whose stages name no module script (tests, benchmarks).
    public init(graph: InstanceGraph) {
        self.init(graph: graph, scriptDigests: Array(repeating: nil, count: graph.job.stages.count))
    }

    /// Which part of `instance`'s definition changed since `earlier`, a success's; nil when none did.
    public func change(of instance: InstanceID, since earlier: InstanceDefinition) -> ResumePlan.Reason? {
        var current = of(instance)
        if let script = earlierScripts[graph.stage(of: instance)], earlier.script == script { current.script = script }
        return current.change(from: earlier)
    }

    /// The same definitions over `graph`, the same job with more items listed.
    public func withGraph(_ graph: InstanceGraph) -> Definitions {
        var copy = self
        copy.graph = graph
        return copy
    }

    public func of(_ instance: InstanceID) -> InstanceDefinition {
        let stageIndex = graph.stage(of: instance)
        let stage = graph.job.stages[stageIndex]
        let labels = graph.labels(of: instance)
        let parts = stageParts[stageIndex]
        // command, study, subject, session, domain, workdir, name: the first two hashed once per stage.
        var run = parts.runPrefix
        run.add(labels.subject)
        run.add(labels.session)
        run.add(stage.domain.rawValue)
        run.add(graph.job.workdir)
        run.add(stage.name)
        // An item instance's {item} is part of its command (added only for
        // them: every other definition stays what earlier versions journaled).
        if let item = graph.item(of: instance) { run.add(item) }
        return InstanceDefinition(run: run.value, environment: parts.environment, setup: parts.setup, script: parts.script)
    }
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
