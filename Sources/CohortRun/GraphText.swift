public import CohortCore

/// `cohort graph`: Graphviz dot of the stage graph (each stage with its
/// domain and instance count) or of the instance graph, optionally of some
/// subjects only. Stage, subject and session names are identifiers; items
/// (DESIGN §8) may hold any printable character, so names are escaped.
public enum GraphText {
    /// Fill colours by domain: the study tree's levels at a glance.
    static let colours: [Domain: String] = [.study: "#f4cccc", .subject: "#fff2cc", .session: "#d9ead3"]
    /// Item stages' fill: one level below their generator's.
    static let itemColour = "#cfe2f3"

    static func colour(of stage: Stage) -> String { stage.foreach == nil ? colours[stage.domain]! : itemColour }

    /// `text` inside a dot string: backslashes and quotes escaped.
    static func escaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\"" }) else { return text }
        return text.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
    }

    public static func stages(_ graph: InstanceGraph) -> String {
        let job = graph.job
        var lines = header(job.study)
        for (index, stage) in job.stages.enumerated() {
            // Items as the journal last listed them.
            let count = graph.members(ofStage: index).count
            let level = stage.foreach.map { "item of \(job.stages[$0].name)" } ?? stage.domain.rawValue
            lines.append("  \"\(stage.name)\" [label=\"\(stage.name)\\n\(level) × \(count)\", fillcolor=\"\(colour(of: stage))\"];")
        }
        for stage in job.stages {
            for dependency in stage.dependencies {
                lines.append("  \"\(job.stages[dependency].name)\" -> \"\(stage.name)\";")
            }
        }
        lines += legend()
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// One node per instance (of `subjects` only, with the study-level
    /// instances, when given), each subject's instances in a cluster, one
    /// edge per dependency between shown instances.
    public static func instances(_ graph: InstanceGraph, subjects: Set<String>? = nil) -> String {
        let job = graph.job
        var shown: [InstanceID] = []
        for index in 0..<graph.instanceCount where graph.isLive(InstanceID(index)) {
            let subject = graph.labels(of: InstanceID(index)).subject
            if let subjects, !subject.isEmpty, !subjects.contains(subject) { continue }
            shown.append(InstanceID(index))
        }
        let isShown = Set(shown)
        var lines = header(job.study)
        var bySubject: [String: [InstanceID]] = [:]
        var order: [String] = []
        for instance in shown {
            let subject = graph.labels(of: instance).subject
            if bySubject[subject] == nil { order.append(subject) }
            bySubject[subject, default: []].append(instance)
        }
        for (number, subject) in order.enumerated() {
            let indent = subject.isEmpty ? "  " : "    "
            if !subject.isEmpty {
                lines.append("  subgraph \"cluster_\(number)\" {")
                lines.append("    label=\"\(subject)\"; style=\"rounded\"; color=\"#999999\";")
            }
            for instance in bySubject[subject]! {
                let stage = job.stages[graph.stage(of: instance)]
                let session = graph.labels(of: instance).session
                let label = ([stage.name] + [session, graph.item(of: instance).map(escaped) ?? ""].filter { !$0.isEmpty })
                    .joined(separator: "\\n")
                lines.append("\(indent)\"\(escaped(graph.name(of: instance)))\" [label=\"\(label)\", fillcolor=\"\(colour(of: stage))\"];")
            }
            if !subject.isEmpty { lines.append("  }") }
        }
        for instance in shown {
            for range in graph.dependencies(of: instance) {
                for dependency in range where isShown.contains(InstanceID(dependency)) {
                    lines.append("  \"\(escaped(graph.name(of: InstanceID(dependency))))\" -> \"\(escaped(graph.name(of: instance)))\";")
                }
            }
        }
        lines += legend()
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    private static func header(_ study: String) -> [String] {
        ["digraph \"\(study)\" {",
         "  rankdir=LR; fontname=\"Helvetica\";",
         "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];",
         "  edge [color=\"#555555\"];"]
    }

    private static func legend() -> [String] {
        ["  subgraph \"cluster_legend\" {",
         "    label=\"domains\"; style=\"dashed\"; color=\"#bbbbbb\";"]
            + Domain.allCases.map { "    \"domain: \($0.rawValue)\" [label=\"\($0.rawValue)\", fillcolor=\"\(colours[$0]!)\"];" }
            + ["    \"domain: item\" [label=\"item\", fillcolor=\"\(itemColour)\"];", "  }"]
    }
}
