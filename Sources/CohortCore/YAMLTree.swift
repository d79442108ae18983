internal import Yams

/// Typed, located reading of a composed YAML tree. Every problem is recorded
/// with its line and field path instead of being thrown, so one pass reports
/// them all; nothing here can trap on hostile input.
struct YAMLTree {
    let file: String
    private(set) var problems: [JobFileProblem] = []
    /// Nodes visited; bounds the work a single file can cause.
    private var visited = 0
    static let maximumNodes = 200_000

    init(file: String) { self.file = file }

    mutating func report(_ node: Node?, _ field: String, _ message: String) {
        problems.append(JobFileProblem(file: file, line: node.flatMap(Self.line(of:)), field: field, message: message))
    }

    mutating func report(line: Int?, _ field: String, _ message: String) {
        problems.append(JobFileProblem(file: file, line: line, field: field, message: message))
    }

    static func line(of node: Node) -> Int? {
        switch node {
        case .scalar(let scalar): scalar.mark?.line
        case .mapping(let mapping): mapping.mark?.line
        case .sequence(let sequence): sequence.mark?.line
        case .alias(let alias): alias.mark?.line
        }
    }

    private static let acceptedTags: Set<String> = [
        "", "!", Tag.Name.str.rawValue, Tag.Name.int.rawValue, Tag.Name.float.rawValue,
        Tag.Name.bool.rawValue, Tag.Name.null.rawValue, Tag.Name.seq.rawValue,
        Tag.Name.map.rawValue, Tag.Name.timestamp.rawValue,
    ]

    /// Counts the node and refuses unknown tags; false when it must not be used.
    private mutating func admit(_ node: Node, _ field: String) -> Bool {
        visited += 1
        if visited == Self.maximumNodes {
            report(node, field, "the file has more than \(Self.maximumNodes) YAML nodes")
        }
        if visited >= Self.maximumNodes { return false }
        let tag: String
        switch node {
        case .scalar(let scalar): tag = scalar.tag.description
        case .mapping(let mapping): tag = mapping.tag.description
        case .sequence(let sequence): tag = sequence.tag.description
        case .alias:
            report(node, field, "YAML aliases are not supported in job files")
            return false
        }
        guard Self.acceptedTags.contains(tag) else {
            report(node, field, "unsupported YAML tag \(quoted(tag))")
            return false
        }
        return true
    }

    /// Whether a scalar is YAML's null (`~`, `null`, or nothing).
    static func isNull(_ scalar: Node.Scalar) -> Bool {
        guard scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// A scalar's text exactly as written (never YAML's idea of a number).
    mutating func text(_ node: Node, _ field: String) -> String? {
        guard admit(node, field) else { return nil }
        guard case .scalar(let scalar) = node else {
            report(node, field, "expected a single value, found a \(Self.kind(of: node))")
            return nil
        }
        if Self.isNull(scalar) {
            report(node, field, "missing value")
            return nil
        }
        return scalar.string
    }

    /// A list of scalars; a single scalar is refused (say `[a]`).
    mutating func textList(_ node: Node, _ field: String) -> [(text: String, node: Node)]? {
        guard let items = sequence(node, field) else { return nil }
        var result: [(String, Node)] = []
        for (index, item) in items.enumerated() {
            if let value = text(item, "\(field)[\(index)]") { result.append((value, item)) }
        }
        return result
    }

    mutating func sequence(_ node: Node, _ field: String) -> [Node]? {
        guard admit(node, field) else { return nil }
        guard case .sequence(let sequence) = node else {
            report(node, field, "expected a list, found a \(Self.kind(of: node))")
            return nil
        }
        return Array(sequence)
    }

    /// A mapping with text keys, in file order; refuses non-text and repeated keys.
    mutating func mapping(_ node: Node, _ field: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard admit(node, field) else { return nil }
        guard case .mapping(let mapping) = node else {
            report(node, field, "expected a mapping (key: value), found a \(Self.kind(of: node))")
            return nil
        }
        var seen: Set<String> = []
        var pairs: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard admit(keyNode, field), case .scalar(let scalar) = keyNode, !Self.isNull(scalar) else {
                report(keyNode, field, "keys must be plain text")
                continue
            }
            let key = scalar.string
            guard seen.insert(key).inserted else {
                report(keyNode, Self.join(field, key), "appears twice")
                continue
            }
            pairs.append((key, keyNode, value))
        }
        return pairs
    }

    static func join(_ field: String, _ key: String) -> String {
        field.isEmpty ? key : "\(field).\(key)"
    }

    static func kind(of node: Node) -> String {
        switch node {
        case .scalar: "single value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }
}
