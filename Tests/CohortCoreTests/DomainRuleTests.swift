import CohortCore
import CohortTesting
import Testing

/// aa's domain rules (DESIGN §3): an instance waits for each instance of a
/// dependency stage whose coordinates agree with its own on every level both have.
@Suite struct DomainRuleTests {
    /// A graph with stage `a` (domain `from`) and stage `b` (domain `to`) after it.
    func pair(_ from: Domain, _ to: Domain) throws -> InstanceGraph {
        try InstanceGraph(job: JobFixtures.job([("a", from, []), ("b", to, [0])]))
    }

    @Test func studyAfterStudy() throws {
        let graph = try pair(.study, .study)
        #expect(graph.dependencyNames(of: "b") == ["a"])
    }

    @Test func subjectAfterStudy() throws {
        let graph = try pair(.study, .subject)
        #expect(graph.dependencyNames(of: "b:sub-02") == ["a"])
        #expect(graph.dependentNames(of: "a") == ["b:sub-01", "b:sub-02", "b:sub-03"])
    }

    @Test func sessionAfterStudy() throws {
        let graph = try pair(.study, .session)
        #expect(graph.dependencyNames(of: "b:sub-03:ses-2") == ["a"])
        #expect(graph.dependentNames(of: "a").count == 6)
    }

    @Test func studyAfterSubject() throws {
        let graph = try pair(.subject, .study)
        #expect(graph.dependencyNames(of: "b") == ["a:sub-01", "a:sub-02", "a:sub-03"])
    }

    @Test func subjectAfterSubject() throws {
        let graph = try pair(.subject, .subject)
        #expect(graph.dependencyNames(of: "b:sub-02") == ["a:sub-02"])
        #expect(graph.dependentNames(of: "a:sub-03") == ["b:sub-03"])
    }

    @Test func sessionAfterSubject() throws {
        let graph = try pair(.subject, .session)
        #expect(graph.dependencyNames(of: "b:sub-03:ses-3") == ["a:sub-03"])
        #expect(graph.dependentNames(of: "a:sub-01") == ["b:sub-01:ses-1", "b:sub-01:ses-2"])
    }

    @Test func studyAfterSession() throws {
        let graph = try pair(.session, .study)
        #expect(graph.dependencyNames(of: "b").count == 6)
        #expect(graph.dependentNames(of: "a:sub-02:ses-1") == ["b"])
    }

    @Test func subjectAfterSessionWaitsForAllItsSessionsOnly() throws {
        let graph = try pair(.session, .subject)
        #expect(graph.dependencyNames(of: "b:sub-01") == ["a:sub-01:ses-1", "a:sub-01:ses-2"])
        #expect(graph.dependencyNames(of: "b:sub-02") == ["a:sub-02:ses-1"])
        #expect(graph.dependencyNames(of: "b:sub-03") == ["a:sub-03:ses-1", "a:sub-03:ses-2", "a:sub-03:ses-3"])
    }

    @Test func sessionAfterSessionIsOneToOne() throws {
        let graph = try pair(.session, .session)
        #expect(graph.dependencyNames(of: "b:sub-03:ses-2") == ["a:sub-03:ses-2"])
        #expect(graph.dependentNames(of: "a:sub-01:ses-2") == ["b:sub-01:ses-2"])
    }

    @Test func instanceCountsFollowDomainsWithRaggedSessions() throws {
        let graph = try InstanceGraph(job: JobFixtures.job([
            ("st", .study, []), ("su", .subject, [0]), ("se", .session, [1]),
        ]))
        #expect(graph.instances(ofStage: 0).count == 1)
        #expect(graph.instances(ofStage: 1).count == 3)
        #expect(graph.instances(ofStage: 2).count == 6)
        #expect(graph.name(of: InstanceID(0)) == "st")
        #expect(graph.name(of: InstanceID(9)) == "se:sub-03:ses-3")
    }

    @Test func subjectWithoutSessionsWaitsForNothingAtSessionLevel() throws {
        let subjects = [Subject(name: "s1", sessions: ["x"]), Subject(name: "s2", sessions: [])]
        let graph = try InstanceGraph(job: JobFixtures.job([("a", .session, []), ("b", .subject, [0])], subjects: subjects))
        #expect(graph.dependencyNames(of: "b:s1") == ["a:s1:x"])
        #expect(graph.dependencyNames(of: "b:s2") == [])
    }

    @Test func emptyAfterMeansNoDependencies() throws {
        let job = try JobLoader.load(text: """
            study: s
            subjects: [a, b]
            stages:
              - {name: one, domain: subject, run: "true"}
              - {name: two, domain: subject, run: "true", after: []}
              - {name: three, domain: subject, run: "true"}
            """, file: "job.yml")
        #expect(job.stages[1].dependencies == [])
        #expect(job.stages[2].dependencies == [1], "no after: means the previous stage")
        let graph = try InstanceGraph(job: job)
        #expect(graph.dependencyNames(of: "two:a") == [])
        #expect(graph.dependencyNames(of: "three:b") == ["two:b"])
    }

    @Test func severalDependenciesCombine() throws {
        let graph = try InstanceGraph(job: JobFixtures.job([
            ("convert", .session, []), ("realign", .session, [0]), ("tsdiff", .session, [0]),
            ("first", .subject, [1, 2]),
        ]))
        #expect(graph.dependencyNames(of: "first:sub-02") == ["realign:sub-02:ses-1", "tsdiff:sub-02:ses-1"])
        #expect(graph.dependentNames(of: "convert:sub-01:ses-2") == ["realign:sub-01:ses-2", "tsdiff:sub-01:ses-2"])
    }

    /// The rule checked against its definition, for every pair and every instance.
    @Test(arguments: Domain.allCases, Domain.allCases)
    func everyPairMatchesTheDefinition(_ from: Domain, _ to: Domain) throws {
        let graph = try pair(from, to)
        for b in graph.instances(ofStage: 1) {
            let mine = graph.coordinates(of: InstanceID(b))
            let expected = graph.instances(ofStage: 0).filter { a in
                let theirs = graph.coordinates(of: InstanceID(a))
                let subjectsAgree = mine.subject == nil || theirs.subject == nil || mine.subject == theirs.subject
                let sessionsAgree = mine.session == nil || theirs.session == nil || mine.session == theirs.session
                return subjectsAgree && sessionsAgree
            }
            #expect(graph.dependencies(of: InstanceID(b)).flatMap { $0 } == expected)
        }
    }
}
