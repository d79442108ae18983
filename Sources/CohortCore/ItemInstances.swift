/// The instances of `foreach` stages (DESIGN §8), known only once their
/// generator instance has listed its items. They are numbered after the
/// study tree's instances, in the order they become known, and never
/// renumbered: an instance keeps its number for the whole run, also when
/// its generator lists again (a watched import, a rerun) and its item is
/// dropped or comes back. So orders and reports in flight stay valid while
/// the graph grows.
public struct ItemInstances: Sendable {
    struct Entry: Sendable {
        var stage: Int
        var generator: InstanceID
        var item: String
        /// False once its generator listed again without its item.
        var live: Bool
    }

    struct ListKey: Hashable, Sendable {
        var stage: Int
        var generator: InstanceID
    }

    struct ItemKey: Hashable, Sendable {
        var stage: Int
        var generator: InstanceID
        var item: String
    }

    /// Entry `i` is instance `first + i`.
    let first: Int
    var entries: [Entry] = []
    /// Live instances of each (foreach stage, generator instance), in listing order.
    var listed: [ListKey: [InstanceID]] = [:]
    /// Every instance ever made for (stage, generator, item), live or not.
    var byItem: [ItemKey: InstanceID] = [:]

    init(first: Int) {
        self.first = first
    }

    var count: Int { entries.count }

    func entry(_ instance: InstanceID) -> Entry? {
        let offset = instance.index - first
        return offset >= 0 && offset < entries.count ? entries[offset] : nil
    }

    /// Every live instance of foreach stage `stage`, in number order.
    func liveInstances(ofStage stage: Int) -> [Int] {
        entries.indices.filter { entries[$0].stage == stage && entries[$0].live }.map { first + $0 }
    }

    /// The live instances of `stage` for `generator`'s items, as ranges of
    /// consecutive numbers (one range when they were listed at once).
    func ranges(ofStage stage: Int, generator: InstanceID) -> [Range<Int>] {
        guard let instances = listed[ListKey(stage: stage, generator: generator)], !instances.isEmpty else { return [] }
        var ranges: [Range<Int>] = []
        var start = instances[0].index, end = start + 1
        for instance in instances.dropFirst() {
            if instance.index == end {
                end += 1
            } else {
                ranges.append(start..<end)
                start = instance.index
                end = start + 1
            }
        }
        ranges.append(start..<end)
        return ranges
    }

    /// `items` as `generator` listed them, for each of `stages` (the foreach
    /// stages of its stage): new items get new instances, items listed
    /// before keep theirs (revived if they had been dropped), items no longer
    /// listed are dropped.
    mutating func list(_ items: [String], by generator: InstanceID, stages: [Int]) -> (added: [InstanceID], dropped: [InstanceID]) {
        var added: [InstanceID] = []
        var dropped: [InstanceID] = []
        let wanted = Set(items)
        for stage in stages {
            let key = ListKey(stage: stage, generator: generator)
            for instance in listed[key] ?? [] where !wanted.contains(entries[instance.index - first].item) {
                entries[instance.index - first].live = false
                dropped.append(instance)
            }
            var now: [InstanceID] = []
            now.reserveCapacity(items.count)
            for item in items {
                let itemKey = ItemKey(stage: stage, generator: generator, item: item)
                if let instance = byItem[itemKey] {
                    if !entries[instance.index - first].live { added.append(instance) }
                    entries[instance.index - first].live = true
                    now.append(instance)
                } else {
                    let instance = InstanceID(first + entries.count)
                    entries.append(Entry(stage: stage, generator: generator, item: item, live: true))
                    byItem[itemKey] = instance
                    now.append(instance)
                    added.append(instance)
                }
            }
            listed[key] = now
        }
        return (added, dropped)
    }
}

/// The instances of one stage, for walks that keep per-stage prefix sums
/// (`ResumePlan`, `RunOutlook`): a stage's dependency ranges then map to
/// ranges of offsets in its list.
public enum StageMembers: RandomAccessCollection, Sendable {
    /// A study-tree stage: contiguous numbers.
    case tree(Range<Int>)
    /// A foreach stage: its live items, ascending (each listing's are consecutive).
    case items([Int])

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch self {
        case .tree(let range): range.count
        case .items(let list): list.count
        }
    }

    /// The instance number at `offset`.
    public subscript(offset: Int) -> Int {
        switch self {
        case .tree(let range): range.lowerBound + offset
        case .items(let list): list[offset]
        }
    }

    /// The offsets in this list of the instances in `range` (all members).
    public func offsets(of range: Range<Int>) -> Range<Int> {
        switch self {
        case .tree(let all):
            return range.lowerBound - all.lowerBound..<range.upperBound - all.lowerBound
        case .items(let list):
            return lowerBound(list, range.lowerBound)..<lowerBound(list, range.upperBound)
        }
    }

    private func lowerBound(_ list: [Int], _ value: Int) -> Int {
        var low = 0, high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
