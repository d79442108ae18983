import CohortTesting
import Testing

/// `cohort graph`: dot that Graphviz renders, of stages or of instances.
@Suite struct GraphTests {
    var demoJob: String { repository + "/jobs/demo/job.yml" }

    /// Renders `dot` text to SVG with Graphviz's `dot`; nil when it is not installed (outside CI).
    func render(_ dot: String) throws -> String? {
        guard let tool = testTool("dot") else { return nil }
        let folder = try TemporaryFolder.make(prefix: "graph")
        Files.write(folder + "/g.dot", dot)
        let result = try ChildProcess.run([tool, "-Tsvg", folder + "/g.dot", "-o", folder + "/g.svg"])
        #expect(result.code == 0, "\(result.output)")
        return Files.read(folder + "/g.svg")
    }

    @Test func theStageGraphShowsDomainsAndDependencies() throws {
        let result = try ChildProcess.run([MPIHarness.cohort, "graph", demoJob])
        #expect(result.code == 0, "\(result.output)")
        let dot = result.stdout
        #expect(dot.hasPrefix("digraph \"demo\" {"))
        #expect(dot.contains("\"realign\" [label=\"realign\\nsession × 6\""), "\(dot)")
        #expect(dot.contains("\"group\" [label=\"group\\nstudy × 1\""))
        #expect(dot.contains("\"convert\" -> \"tsdiffana\";"), "tsdiffana runs after convert, beside realign")
        #expect(dot.contains("\"firstlevel\" -> \"qa\";") || dot.contains("-> \"qa\";"))
        if let svg = try render(dot) {
            #expect(svg.contains("<svg"))
            #expect(svg.contains(">realign</text>"))
            #expect(svg.contains(">session × 6</text>"))
        }
    }

    @Test func theInstanceGraphOfOneSubjectFollowsTheDomainRules() throws {
        let result = try ChildProcess.run([MPIHarness.cohort, "graph", demoJob, "--instances", "--subjects", "sub-02"])
        #expect(result.code == 0, "\(result.output)")
        let dot = result.stdout
        #expect(dot.contains("label=\"sub-02\""))
        #expect(dot.contains("\"convert:sub-02:ses-pre\" -> \"realign:sub-02:ses-pre\";"), "\(dot)")
        #expect(dot.contains("-> \"group\";"), "the study instance is shown with its inputs from sub-02")
        #expect(!dot.contains("sub-01"), "other subjects are left out")
        if let svg = try render(dot) { #expect(svg.contains(">sub&#45;02</text>"), "dot escapes the dash") }

        let unknown = try ChildProcess.run([MPIHarness.cohort, "graph", demoJob, "--instances", "--subjects", "sub-99"])
        #expect(unknown.code == 2)
        #expect(unknown.stderr.contains("--subjects sub-99: no such subject"))
    }
}
