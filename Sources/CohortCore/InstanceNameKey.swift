/// An instance's name (`stage:subject:session`) as numbers: each part
/// interned in a `NameParts` table. Reading a large journal looks up every
/// instance by name; a key of two words hashes and compares without
/// touching string storage, and the parts (short: stored inline by Swift)
/// are hashed once per distinct part, not once per instance.
struct InstanceNameKey: Hashable, Sendable {
    /// Part ids, `absent` where the name has fewer parts.
    var parts: (UInt32, UInt32, UInt32, UInt32)
    static let absent = UInt32.max

    init(_ a: UInt32, _ b: UInt32 = absent, _ c: UInt32 = absent, _ d: UInt32 = absent) {
        parts = (a, b, c, d)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.parts.0 == rhs.parts.0 && lhs.parts.1 == rhs.parts.1 && lhs.parts.2 == rhs.parts.2 && lhs.parts.3 == rhs.parts.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(parts.0) << 32 | UInt64(parts.1))
        hasher.combine(UInt64(parts.2) << 32 | UInt64(parts.3))
    }

    var ids: [UInt32] { [parts.0, parts.1, parts.2, parts.3].filter { $0 != Self.absent } }
}

/// The distinct name parts seen so far, numbered in order of appearance.
struct NameParts: Sendable {
    private(set) var texts: [String] = []
    private var ids: [String: UInt32] = [:]

    /// A name has at most four parts; a fourth part keeps any further colons.
    static let maximumParts = 4

    func id(of part: String) -> UInt32? { ids[part] }

    mutating func intern(_ part: String) -> UInt32 {
        if let id = ids[part] { return id }
        let id = UInt32(texts.count)
        ids[part] = id
        texts.append(part)
        return id
    }

    /// The key of `name`, interning its parts.
    mutating func key(interning name: String) -> InstanceNameKey {
        let split = name.split(separator: ":", maxSplits: Self.maximumParts - 1, omittingEmptySubsequences: false)
        var ids = [UInt32](repeating: InstanceNameKey.absent, count: Self.maximumParts)
        for (index, part) in split.enumerated() { ids[index] = intern(String(part)) }
        return InstanceNameKey(ids[0], ids[1], ids[2], ids[3])
    }

    /// The key of `name` if every part of it is known, else nil (then no entry has that name).
    func key(of name: String) -> InstanceNameKey? {
        let split = name.split(separator: ":", maxSplits: Self.maximumParts - 1, omittingEmptySubsequences: false)
        var ids = [UInt32](repeating: InstanceNameKey.absent, count: Self.maximumParts)
        for (index, part) in split.enumerated() {
            guard let id = self.ids[String(part)] else { return nil }
            ids[index] = id
        }
        return InstanceNameKey(ids[0], ids[1], ids[2], ids[3])
    }

    func name(of key: InstanceNameKey) -> String {
        key.ids.map { texts[Int($0)] }.joined(separator: ":")
    }
}
