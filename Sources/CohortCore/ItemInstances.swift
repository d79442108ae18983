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
