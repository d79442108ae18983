import ArgumentParser
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort graph job.yml`: Graphviz dot on stdout (`| dot -Tsvg > g.svg`).
struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print Graphviz dot of the stage graph (with domains), or of the instance graph.",
        discussion: "Render it with Graphviz: cohort graph job.yml | dot -Tsvg > graph.svg")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Flag(help: "The instance graph: one node per instance, each subject's in a box.")
    var instances = false

    @Option(name: .customLong("subjects"), help: ArgumentHelp("With --instances: only these subjects' instances, and the study's (comma-separated).", valueName: "sub-01,sub-02"))
    var subjects: [String] = []

    func validate() throws {
        if !subjects.isEmpty && !instances { throw ValidationError("--subjects goes with --instances") }
    }

    func run() throws {
        var study = try Study.opened(jobFile, recordedTreeIfUnreadable: true)
        // Item stages' instances as their generators last listed them.
        if let history = study.history(refreshingSnapshot: false) { study.listItems(from: history) }
        let names = Set(subjects.flatMap { $0.split(separator: ",").map(String.init) })
        let known = Set(study.job.subjects.map(\.name))
        if let unknown = names.subtracting(known).sorted().first {
            writeLine(STDERR_FILENO, "cohort: --subjects \(unknown): no such subject in \(jobFile)")
            throw ExitCode(2)
        }
        writeLine(STDOUT_FILENO, instances ? GraphText.instances(study.graph, subjects: names.isEmpty ? nil : names)
                                           : GraphText.stages(study.graph))
    }
}
