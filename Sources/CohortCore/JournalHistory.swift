import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the journal says happened to each instance, across every run so far.
///
/// Built from the journal's text; damaged lines (a record torn by a kill in
/// the middle of its write, or corrupted) are set aside with their line
/// numbers and never trusted.
public struct JournalHistory: Sendable {
    public struct Entry: Sendable, Equatable {
        /// The last success, while it still stands: no attempt started after
        /// it and no `--force` covered it since.
        public var success: Success?
        /// The last ending recorded (success or not).
        public var lastOutcome: AttemptOutcome?
        /// Started but no ending recorded after it (the run died).
        public var unfinished = false
        public var skipped = false
        /// A `--force` made its success out of date and no attempt has started since.
        public var forcePending = false
        /// The highest attempt number started, over every run (the next is one more).
        public var attempts = 0
        /// The last failed attempt's folder (its logs), when the journal
        /// names it: on its end record (older journals: on every start).
        /// A new start or a success drops it.
        public var lastLogs: String?
        /// Wall seconds of the last success, for duration estimates.
        public var lastSuccessWallSeconds: Double?
        /// Where and when the last attempt started.
        public var lastRank = 0
        public var lastHost = ""
        public var lastStartTime = 0.0
        /// What the last ended attempt used.
        public var lastWallSeconds = 0.0
        public var lastPeakMemoryKiB = 0
    }

    /// A success as the journal holds it.
    public struct Success: Sendable, Equatable {
        /// What it was made from; nil in journals of older versions.
        public var lineage: SuccessLineage?
        /// Position of its record in the journal: which of two successes came later.
        public var sequence: Int
    }

    /// Entries by slot; `keys[slot]` names each (see `InstanceNameKey`).
    var slots: [Entry] = []
    var keys: [InstanceNameKey] = []
    /// The slot of each key, built when first needed (see `SlotIndex`).
    var slotIndex = SlotIndex([:])
    var parts = NameParts()
    public internal(set) var runs = 0
    /// Whether the last run journaled its end (a killed run did not).
    public internal(set) var lastRunEnded = true
    /// How the last run began: when, where, on how many ranks.
    public internal(set) var lastRun: JournalRecord.RunStart?
    /// The time of the last record that has one: about when a killed run died.
    public internal(set) var lastRecordTime: Double?
    /// The subjects and sessions as the last `tree` record left them (nil:
    /// none recorded, a journal of an older version or no run yet).
    public internal(set) var studyTree: RecordedTree?
    /// Each generator instance's last list of items, by its name.
    public internal(set) var itemLists: [String: [String]] = [:]
    /// Watched generator instances whose last success (a first run or a
    /// look) left the watch going on (DESIGN §8): not done until it ends.
    public internal(set) var watching: Set<String> = []
    /// The `--force` requests journaled so far under an id (see `ForceRequest.id`).
    public internal(set) var forcesByID: [String: ForceRequest] = [:]
    /// Records applied so far; gives each success its `sequence`.
    public internal(set) var recordCount = 0
    /// (line number, why) of each line that is not a valid record.
    public internal(set) var damaged: [(line: Int, reason: String)] = []
    /// Whether the last line was cut short (no newline at the end).
    public internal(set) var endsTorn = false
    /// Lines read so far.
    public internal(set) var lineCount = 0

    public init() {}

    public init(text: String) {
        var text = text
        self = text.withUTF8 { JournalHistory(bytes: $0) }
    }

    /// The history of a journal's bytes.
    public init(bytes: UnsafeBufferPointer<UInt8>) {
        // About two records of ~200 bytes per instance: growing a large table is what costs.
        reserve(bytes.count / 400)
        read(bytes)
    }

    /// Applies the records of `bytes`, whole lines of a journal that
    /// continue the ones read so far (counted in `lineCount`).
    public mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) {
        var reader = JournalLineReader()
        var start = 0
        while start < bytes.count {
            lineCount += 1
            guard let newline = Self.newline(in: bytes, from: start) else {
                endsTorn = true
                damaged.append((lineCount, "the last record was cut short (the run was killed while writing it)"))
                return
            }
            do throws(JournalFormat.Damage) {
                apply(try reader.decode(UnsafeBufferPointer(rebasing: bytes[start..<newline])))
            } catch where !error.isNewerKind {
                damaged.append((lineCount, error.description))
            } catch {
                // Written by a newer Cohort: nothing this version acts on.
            }
            start = newline + 1
        }
    }

    public mutating func apply(_ record: JournalRecord) {
        recordCount += 1
        switch record {
        case .runStarted(let run):
            runs += 1
            lastRunEnded = false
            lastRun = run
            lastRecordTime = run.time
        case .started(let attempt):
            lastRecordTime = attempt.time
            // A new attempt may have touched the outputs: an earlier success no longer counts.
            update(attempt.instance) { entry in
                entry.unfinished = true
                // The highest number started: a follow-on its worker gave
                // back unstarted has its number started again.
                entry.attempts = max(entry.attempts, attempt.attempt)
                entry.success = nil
                entry.forcePending = false
                entry.lastLogs = attempt.logs
                entry.lastRank = attempt.rank
                entry.lastHost = attempt.host
                entry.lastStartTime = attempt.time
            }
        case .finished(let attempt, let ending):
            lastRecordTime = attempt.time
            let sequence = recordCount
            update(attempt.instance) { entry in
                entry.unfinished = false
                entry.skipped = false
                entry.lastOutcome = ending.outcome
                entry.lastWallSeconds = ending.wallSeconds
                entry.lastPeakMemoryKiB = ending.peakMemoryKiB
                if ending.outcome == .succeeded {
                    entry.success = Success(lineage: ending.lineage, sequence: sequence)
                    entry.lastSuccessWallSeconds = ending.wallSeconds
                    entry.lastLogs = nil
                } else {
                    entry.success = nil
                    if let logs = attempt.logs { entry.lastLogs = logs }
                }
            }
        case .skipped(let instance, _, _):
            update(instance) { $0.skipped = true }
        case .forced(let request, _):
            if let id = request.id { forcesByID[id] = request }
            for slot in slots.indices where slots[slot].success != nil && request.covers(parts.name(of: keys[slot])) {
                slots[slot].success = nil
                slots[slot].forcePending = true
            }
        case .drained(_, _, _, let time), .workerJoined(_, _, _, _, let time):
            lastRecordTime = time
        case .itemsListed(let instance, _, let items, let time, let goesOn):
            lastRecordTime = time
            itemLists[instance] = items
            if goesOn { watching.insert(instance) } else if !watching.isEmpty { watching.remove(instance) }
        case .itemsChanged(let instance, _, let added, let removed, let time, let goesOn):
            lastRecordTime = time
            let gone = Set(removed)
            itemLists[instance] = (itemLists[instance] ?? []).filter { !gone.contains($0) } + added
            if goesOn { watching.insert(instance) } else if !watching.isEmpty { watching.remove(instance) }
        case .studyTree(let change):
            lastRecordTime = change.time
            var tree = studyTree ?? RecordedTree(source: change.source)
            tree.apply(change)
            studyTree = tree
        case .runEnded(_, let time):
            lastRunEnded = true
            lastRecordTime = time
        }
    }

    public subscript(instance: String) -> Entry? {
        guard let key = parts.key(of: instance), let slot = slotIndex.slot(of: key, keys: keys) else { return nil }
        return slots[Int(slot)]
    }

    /// Whether the journal holds no instance at all.
    public var isEmpty: Bool { slots.isEmpty }

    /// Every instance the journal names, with its entry (builds every name: for tests and small journals).
    public var entries: [String: Entry] {
        Dictionary(uniqueKeysWithValues: zip(keys.map(parts.name(of:)), slots))
    }

    /// The entry of each instance of `graph`, found once by its place in
    /// the graph: each entry's name parts map to the graph's stage, subject
    /// and session indices through arrays (no name is built, nothing is
    /// hashed per instance) — what plan and status walk.
    public func entries(of graph: InstanceGraph) -> InstanceEntries {
        var found = [Int32](repeating: -1, count: graph.instanceCount)
        guard !slots.isEmpty else { return InstanceEntries(slots: found, entries: slots) }
        let job = graph.job
        var stageOfPart = [Int32](repeating: -1, count: parts.texts.count)
        var subjectOfPart = [Int32](repeating: -1, count: parts.texts.count)
        for (index, stage) in job.stages.enumerated() {
            if let id = parts.id(of: stage.name) { stageOfPart[Int(id)] = Int32(index) }
        }
        for (index, subject) in job.subjects.enumerated() {
            if let id = parts.id(of: subject.name) { subjectOfPart[Int(id)] = Int32(index) }
        }
        let sessionStarts = graph.sessionStarts
        let sessionParts = (0..<graph.sessionCount).map { parts.id(of: graph.sessionName($0)) ?? InstanceNameKey.absent }
        let absent = InstanceNameKey.absent
        for (slot, key) in keys.enumerated() where key.parts.0 != absent && key.parts.3 == absent {
            let stage = stageOfPart[Int(key.parts.0)]
            guard stage >= 0 else { continue }
            var subject: Int?
            var session: Int?
            if key.parts.1 != absent {
                let index = subjectOfPart[Int(key.parts.1)]
                guard index >= 0 else { continue }
                subject = Int(index)
                let range = sessionStarts[Int(index)]..<sessionStarts[Int(index) + 1]
                if key.parts.2 != absent {
                    guard let flat = range.first(where: { sessionParts[$0] == key.parts.2 }) else { continue }
                    session = flat
                } else if job.stages[Int(stage)].domain == .session {
                    // `stage:subject` of a session stage: the subject's implicit session ("").
                    guard let flat = range.first(where: { graph.sessionName($0).isEmpty }) else { continue }
                    session = flat
                }
            } else if key.parts.2 != absent {
                continue
            }
            if let instance = graph.instance(ofStage: Int(stage), subject: subject, session: session) {
                found[instance.index] = Int32(slot)
            }
        }
        // Items, by name: an item may hold ':', and an implicit session has no part of its own.
        for index in graph.treeInstanceCount..<graph.instanceCount where graph.isLive(InstanceID(index)) {
            if let key = parts.key(of: graph.name(of: InstanceID(index))), let slot = slotIndex.slot(of: key, keys: keys) {
                found[index] = slot
            }
        }
        return InstanceEntries(slots: found, entries: slots)
    }

    /// Room for about `count` instances.
    mutating func reserve(_ count: Int) {
        slots.reserveCapacity(count)
        keys.reserveCapacity(count)
        slotIndex.table.withLock { $0?.reserveCapacity(count) }
    }

    /// Changes the entry of `instance` where it lies, adding it first if new.
    private mutating func update(_ instance: String, _ change: (inout Entry) -> Void) {
        let key = parts.key(interning: instance)
        // A copy of this history shares the index until one of them adds to it.
        if !isKnownUniquelyReferenced(&slotIndex) { slotIndex = slotIndex.copy(keys: keys) }
        let slot: Int
        if let found = slotIndex.slot(of: key, keys: keys) {
            slot = Int(found)
        } else {
            slot = slots.count
            slotIndex.table.withLock { $0![key] = Int32(slot) }
            keys.append(key)
            slots.append(Entry())
        }
        change(&slots[slot])
    }

    /// The index of the first newline at or after `start` (memchr: a journal is long).
    private static func newline(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count,
              let found = memchr(base + start, 10, bytes.count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

}

extension JournalHistory {
    /// Per stage of `job`: the median wall time of its instances' last successes, nil when none.
    public func medianDurations(for job: Job) -> [Double?] {
        var byStage: [String: [Double]] = [:]
        for (key, entry) in zip(keys, slots) {
            guard let wall = entry.lastSuccessWallSeconds else { continue }
            byStage[parts.texts[Int(key.parts.0)], default: []].append(wall)
        }
        return job.stages.map { stage in
            guard let durations = byStage[stage.name]?.sorted(), !durations.isEmpty else { return nil }
            let middle = durations.count / 2
            return durations.count % 2 == 1 ? durations[middle] : (durations[middle - 1] + durations[middle]) / 2
        }
    }
}

/// The journal's entry of each instance of one graph, by instance id.
public struct InstanceEntries: Sendable {
    /// Per instance: its slot in `entries`, -1 when the journal never named it.
    let slots: [Int32]
    let entries: [JournalHistory.Entry]

    /// (An item listed after these entries were found has none here.)
    public subscript(instance: InstanceID) -> JournalHistory.Entry? {
        guard instance.index < slots.count else { return nil }
        let slot = slots[instance.index]
        return slot < 0 ? nil : entries[Int(slot)]
    }

    /// Reads one part of an instance's entry in place (no copy of the whole entry).
    public func read<T>(_ instance: InstanceID, _ part: (borrowing JournalHistory.Entry) -> T) -> T? {
        guard instance.index < slots.count else { return nil }
        let slot = slots[instance.index]
        return slot < 0 ? nil : part(entries[Int(slot)])
    }
}

/// Where each instance's entry lies, by name key: built on first use, so
/// that reading a snapshot for `status` or `plan`, which find entries by
/// their place in the graph (`entries(of:)`), does not build a table of a
/// million keys it never looks at.
final class SlotIndex: Sendable {
    /// nil until built from the keys.
    let table: Mutex<[InstanceNameKey: Int32]?>

    init(_ table: [InstanceNameKey: Int32]?) {
        self.table = Mutex(table)
    }

    /// The slot of `key` among `keys` (the history's), building the table first if needed.
    func slot(of key: InstanceNameKey, keys: [InstanceNameKey]) -> Int32? {
        table.withLock { table in
            if table == nil { table = Self.built(keys) }
            return table![key]
        }
    }

    /// An index of its own, built, for a history about to add keys.
    func copy(keys: [InstanceNameKey]) -> SlotIndex {
        SlotIndex(table.withLock { $0 } ?? Self.built(keys))
    }

    private static func built(_ keys: [InstanceNameKey]) -> [InstanceNameKey: Int32] {
        var table: [InstanceNameKey: Int32] = [:]
        table.reserveCapacity(keys.count)
        for (slot, key) in keys.enumerated() where table[key] == nil { table[key] = Int32(slot) }
        return table
    }
}
