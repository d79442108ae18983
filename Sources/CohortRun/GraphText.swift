public import CohortCore

/// `cohort graph`: Graphviz dot of the stage graph (each stage with its
/// domain and instance count) or of the instance graph, optionally of some
/// subjects only. Names are identifiers, so quoting them is enough.
public enum GraphText {
    /// Fill colours by domain: the study tree's levels at a glance.
    static let colours: [Domain: String] = [.study: "#f4cccc", .subject: "#fff2cc", .session: "#d9ead3"]

    public static func stages(_ graph: InstanceGraph) -> String {
        let job = graph.job
        var lines = header(job.study)
        for (index, stage) in job.stages.enumerated() {
            let count = graph.instances(ofStage: index).count
            lines.append("  \"\(stage.name)\" [label=\"\(stage.name)\\n\(stage.domain.rawValue) × \(count)\", fillcolor=\"\(colours[stage.domain]!)\"];")
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
        for index in 0..<graph.instanceCount {
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
                let label = session.isEmpty ? stage.name : "\(stage.name)\\n\(session)"
                lines.append("\(indent)\"\(graph.name(of: instance))\" [label=\"\(label)\", fillcolor=\"\(colours[stage.domain]!)\"];")
            }
            if !subject.isEmpty { lines.append("  }") }
        }
        for instance in shown {
            for range in graph.dependencies(of: instance) {
                for dependency in range where isShown.contains(InstanceID(dependency)) {
                    lines.append("  \"\(graph.name(of: InstanceID(dependency)))\" -> \"\(graph.name(of: instance))\";")
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
            + ["  }"]
    }
}
