import CohortCore
import CohortTesting
import Testing

/// `--only` naming item instances (items may hold `:`).
@Suite struct ItemSelectionTests {
    static let job = JobFixtures.itemJob

    func graph() throws -> InstanceGraph {
        var graph = try InstanceGraph(job: try JobLoader.load(text: Self.job, file: "job.yml"))
        graph.list(["a.tif", "raw/b:2.tif"], by: try #require(graph.instance(ofStage: 0, subject: 0, session: 0)))
        return graph
    }

    func selected(_ only: String, _ graph: InstanceGraph) throws -> [String] {
        let selection = try Selection(only: [only], subjects: [], graph: graph)
        return (0..<graph.instanceCount).map(InstanceID.init).filter { selection.contains($0, in: graph) }.map(graph.name(of:))
    }

    @Test func anItemIsAllThatFollowsItsInstancesLevels() throws {
        let graph = try graph()
        #expect(try selected("mc:g1:s1:raw/b:2.tif", graph) == ["mc:g1:s1:raw/b:2.tif"])
        #expect(try selected("mc:g1:s1", graph) == ["mc:g1:s1:a.tif", "mc:g1:s1:raw/b:2.tif"])
        #expect(try selected("mc:g1:s2:later.tif", graph).isEmpty, "not listed yet: it may appear during the run")
        #expect(try selected("each:x:y", graph).isEmpty, "a study generator's item follows the stage")
    }

    @Test func anItemItsGeneratorDoesNotListIsRefusedWithTheList() throws {
        let graph = try graph()
        func unlisted(_ only: String) throws -> String? {
            try Selection(only: [only], subjects: [], graph: graph).unlistedItem(in: graph)?.description
        }
        #expect(try unlisted("mc:g1:s1:b.tif") != nil)
        #expect(try unlisted("mc:g1:s1:a.tiff") == "--only mc:g1:s1:a.tiff: import:g1:s1 lists no item \"a.tiff\" (did you mean \"a.tif\"?)")
        #expect(try unlisted("mc:g1:s2:later.tif") == nil && unlisted("mc:g1:s1:a.tif") == nil)
        #expect(throws: SelectionError.self) { try selected("mc:g1:s1:", graph) }
        #expect(throws: SelectionError.self) { try selected("import:g1:s1:a.tif", graph) }
    }
}
