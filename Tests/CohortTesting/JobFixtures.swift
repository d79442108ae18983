public import CohortCore

/// Jobs built in code for tests of the graph and the scheduler.
public enum JobFixtures {
    /// Two subjects of two sessions; per session a generator and its item
    /// stage, per study another (DESIGN §8).
    public static let itemJob = """
        study: s
        subjects: [g1, g2]
        sessions: [s1, s2]
        stages:
          - {name: import, domain: session, items: true, run: x}
          - {name: mc, foreach: import, run: x}
          - {name: all, domain: study, items: true, after: [], run: x}
          - {name: each, foreach: all, run: x}
        """

    /// Three subjects with ragged sessions: sub-01 two, sub-02 one, sub-03 three.
    public static let raggedSubjects = [
        Subject(name: "sub-01", sessions: ["ses-1", "ses-2"]),
        Subject(name: "sub-02", sessions: ["ses-1"]),
        Subject(name: "sub-03", sessions: ["ses-1", "ses-2", "ses-3"]),
    ]

    /// A job whose stages are given as (name, domain, dependencies).
    public static func job(
        _ stages: [(String, Domain, [Int])], subjects: [Subject] = raggedSubjects,
        cpus: [String: Int] = [:], memory: [String: Int64] = [:]
    ) -> Job {
        Job(study: "study", subjects: subjects, stages: stages.map { name, domain, dependencies in
            Stage(name: name, domain: domain, command: "true", dependencies: dependencies,
                  cpus: cpus[name] ?? 1, memory: memory[name] ?? 0)
        })
    }

    /// `count` subjects named sub-1..., each with `sessions` sessions.
    public static func subjects(_ count: Int, sessions: Int) -> [Subject] {
        (1...count).map { index in Subject(name: "sub-\(index)", sessions: (0..<sessions).map { "ses-\($0 + 1)" }) }
    }
}

extension InstanceGraph {
    /// The instance called `name` (`stage:subject:session`); traps if absent (tests only).
    public func instance(_ name: String) -> InstanceID {
        for index in 0..<instanceCount where self.name(of: InstanceID(index)) == name { return InstanceID(index) }
        preconditionFailure("no instance \(name)")
    }

    /// Names of everything `name` waits for, sorted.
    public func dependencyNames(of name: String) -> [String] {
        dependencies(of: instance(name)).flatMap { $0 }.map { self.name(of: InstanceID($0)) }.sorted()
    }

    /// Names of everything that waits for `name`, sorted.
    public func dependentNames(of name: String) -> [String] {
        dependents(of: instance(name)).flatMap { $0 }.map { self.name(of: InstanceID($0)) }.sorted()
    }
}
