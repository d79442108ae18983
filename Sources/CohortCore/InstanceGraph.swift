/// One stage instance: a stage at one place in the study tree. Instances of
/// one stage are numbered contiguously; see `InstanceGraph`.
public struct InstanceID: RawRepresentable, Hashable, Comparable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ index: Int) { self.rawValue = Int32(index) }
    public var index: Int { Int(rawValue) }
    public static func < (a: InstanceID, b: InstanceID) -> Bool { a.rawValue < b.rawValue }
}

/// Where an instance sits: its stage, and its subject and session where the
/// stage's domain has them (`session` indexes the job's flattened sessions).
/// An item instance has its generator instance's subject and session, and
/// that generator instance.
public struct InstanceCoordinates: Hashable, Sendable {
    public var stage: Int
    public var subject: Int?
    public var session: Int?
    public var generator: InstanceID? = nil
    public var item: String? = nil
}

/// The DAG of stage instances under aa's domain rules (DESIGN §3), kept
/// implicit: instance numbers and dependencies are arithmetic on the study
/// tree, so nothing is stored per edge and nothing compares instances pairwise.
///
/// Layout: stage after stage; a study stage has one instance, a subject stage
/// one per subject in order, a session stage one per (subject, session) in
/// subject-major order. The sessions of one subject are therefore contiguous,
/// and every dependency of an instance on one stage is one contiguous range.
/// After them come the instances of `foreach` stages, as generators list
/// their items (`ItemInstances`); a dependency on an item stage is a range
/// per generator instance on the branch.
public struct InstanceGraph: Sendable {
    public let job: Job
    /// First instance of each stage, plus the total at the end (a foreach
    /// stage has none here: its instances are `items`).
    private let stageStart: [Int]
    /// The item instances listed so far.
    private var items: ItemInstances
    /// The foreach stages of each stage (empty unless it lists items).
    private let foreachStages: [[Int]]
    private let hasItemStages: Bool
    /// First flattened session of each subject, plus the total at the end.
    private let sessionStart: [Int]
    /// The stages that depend on each stage.
    private let dependentStages: [[Int]]

    public static let maximumInstances = Int(Int32.max)

    public struct TooLarge: Error, CustomStringConvertible {
        public var instances: Int
        public var description: String { "the job expands to \(instances) instances; at most \(InstanceGraph.maximumInstances) are supported" }
    }

    public init(job: Job) throws(TooLarge) {
        self.job = job
        var sessionStart = [0]
        sessionStart.reserveCapacity(job.subjects.count + 1)
        for subject in job.subjects { sessionStart.append(sessionStart[sessionStart.count - 1] + subject.sessions.count) }
        var stageStart = [0]
        for stage in job.stages {
            let count = if stage.foreach != nil { 0 } else {
                switch stage.domain {
                case .study: 1
                case .subject: job.subjects.count
                case .session: sessionStart[sessionStart.count - 1]
                }
            }
            let (total, overflow) = stageStart[stageStart.count - 1].addingReportingOverflow(count)
            guard !overflow, total <= Self.maximumInstances else { throw TooLarge(instances: total) }
            stageStart.append(total)
        }
        var foreachStages = Array(repeating: [Int](), count: job.stages.count)
        for (index, stage) in job.stages.enumerated() {
            if let generator = stage.foreach { foreachStages[generator].append(index) }
        }
        self.foreachStages = foreachStages
        self.hasItemStages = job.stages.contains { $0.foreach != nil }
        self.items = ItemInstances(first: stageStart[stageStart.count - 1])
        var dependents = Array(repeating: [Int](), count: job.stages.count)
        for (index, stage) in job.stages.enumerated() {
            for dependency in stage.dependencies { dependents[dependency].append(index) }
        }
        self.sessionStart = sessionStart
        self.stageStart = stageStart
        self.dependentStages = dependents
    }

    /// Every instance numbered so far: the study tree's, then the items'
    /// (including items dropped since, see `isLive`).
    public var instanceCount: Int { treeInstanceCount + items.count }
    /// The instances of the study tree (not of foreach stages).
    public var treeInstanceCount: Int { stageStart[stageStart.count - 1] }
    public var sessionCount: Int { sessionStart[sessionStart.count - 1] }

    /// The instances of stage `stage` in the study tree (none for a foreach stage).
    public func instances(ofStage stage: Int) -> Range<Int> { stageStart[stage]..<stageStart[stage + 1] }

    public func stage(of instance: InstanceID) -> Int {
        if let entry = items.entry(instance) { return entry.stage }
        return upperBound(stageStart, instance.index) - 1
    }

    /// The item of an item instance (nil for the study tree's).
    public func item(of instance: InstanceID) -> String? { items.entry(instance)?.item }

    /// Whether the instance is part of the study now: false for an item its
    /// generator no longer lists.
    public func isLive(_ instance: InstanceID) -> Bool { items.entry(instance)?.live ?? (instance.index < treeInstanceCount) }

    /// The foreach stages that run once per item of `stage`'s instances.
    public func foreachStages(of stage: Int) -> [Int] { foreachStages[stage] }

    /// The item instances of `stage` (a foreach stage) for `generator`'s items, live ones, in listing order.
    public func itemInstances(ofStage stage: Int, generator: InstanceID) -> [Range<Int>] {
        items.ranges(ofStage: stage, generator: generator)
    }

    /// The items `generator` lists now (live ones), in listing order.
    public func listedItems(of generator: InstanceID) -> [String] {
        guard let stage = foreachStages[self.stage(of: generator)].first else { return [] }
        return itemInstances(ofStage: stage, generator: generator).joined().compactMap { item(of: InstanceID($0)) }
    }

    /// Whether `generator` has listed its items (an empty list counts), so
    /// that foreach stage `stage` knows its instances there.
    public func hasListed(_ generator: InstanceID, forStage stage: Int) -> Bool {
        items.listed[ItemInstances.ListKey(stage: stage, generator: generator)] != nil
    }

    /// The instance of foreach stage `stage` for `item` of `generator`, if it was ever listed.
    public func itemInstance(ofStage stage: Int, generator: InstanceID, item: String) -> InstanceID? {
        items.byItem[ItemInstances.ItemKey(stage: stage, generator: generator, item: item)]
    }

    /// Records the items `generator` listed (DESIGN §8): new items get
    /// instances numbered after every existing one, items listed before keep
    /// theirs, items no longer listed are dropped (`isLive` false).
    @discardableResult
    public mutating func list(_ items: [String], by generator: InstanceID) -> (added: [InstanceID], dropped: [InstanceID]) {
        self.items.list(items, by: generator, stages: foreachStages[stage(of: generator)])
    }

    public func coordinates(of instance: InstanceID) -> InstanceCoordinates {
        if let entry = items.entry(instance) {
            var place = coordinates(of: entry.generator)
            place.stage = entry.stage
            place.generator = entry.generator
            place.item = entry.item
            return place
        }
        let stage = stage(of: instance)
        let offset = instance.index - stageStart[stage]
        switch job.stages[stage].domain {
        case .study: return InstanceCoordinates(stage: stage, subject: nil, session: nil)
        case .subject: return InstanceCoordinates(stage: stage, subject: offset, session: nil)
        case .session: return InstanceCoordinates(stage: stage, subject: subject(ofSession: offset), session: offset)
        }
    }

    /// The instance of `stage` at `subject` / flattened `session`, if that
    /// stage's domain has exactly those levels (the inverse of `coordinates`).
    public func instance(ofStage stage: Int, subject: Int?, session: Int?) -> InstanceID? {
        // A foreach stage's instances are items (`itemInstance`), never the tree's.
        if job.stages[stage].foreach != nil { return nil }
        switch (job.stages[stage].domain, subject, session) {
        case (.study, nil, nil): return InstanceID(stageStart[stage])
        case (.subject, let subject?, nil): return InstanceID(stageStart[stage] + subject)
        case (.session, _?, let session?): return InstanceID(stageStart[stage] + session)
        default: return nil
        }
    }

    /// The flattened index of the first session of each subject, and one past the last.
    public var sessionStarts: [Int] { sessionStart }

    /// The subject that flattened session `session` belongs to.
    public func subject(ofSession session: Int) -> Int {
        upperBound(sessionStart, session) - 1
    }

    /// The session's own name (flattened index -> "ses-pre").
    public func sessionName(_ session: Int) -> String {
        let subject = subject(ofSession: session)
        return job.subjects[subject].sessions[session - sessionStart[subject]]
    }

    /// The instance IDs of each dependency stage this instance waits for:
    /// those whose coordinates agree with its own on every level both have
    /// (one range per study-tree stage; for a foreach stage, a range per
    /// generator instance on the branch, or the same item).
    public func dependencies(of instance: InstanceID) -> [Range<Int>] {
        let place = coordinates(of: instance)
        // Without foreach stages, one range per stage and no array per stage (the scheduler's hot path).
        guard hasItemStages else { return job.stages[place.stage].dependencies.map { treeMatching(place, in: $0) } }
        return job.stages[place.stage].dependencies.flatMap { matching(place, in: $0) }
    }

    /// The dependencies a success is made from (lineage): all of them, but
    /// for an item instance not its generator, which it waits for only to
    /// exist (DESIGN §8: it depends on its generator through its item, so a
    /// generator run again that lists it again leaves it current).
    public func forEachInput(of instance: InstanceID, _ visit: (Range<Int>, Int) -> Bool) {
        let generatorStage = hasItemStages ? job.stages[stage(of: instance)].foreach : nil
        forEachDependency(of: instance) { range, stage in stage == generatorStage ? true : visit(range, stage) }
    }

    /// `dependencies(of:)` stage by stage: the ranges of each dependency
    /// stage's instances this one waits for (one range for a tree stage; a
    /// range per generator instance's items for a foreach stage).
    /// Calls `visit(range, stage)` for each; stops when it returns false.
    /// Builds no array for a tree stage (planning walks 10^6 instances).
    public func forEachDependency(of instance: InstanceID, _ visit: (Range<Int>, Int) -> Bool) {
        let place = coordinates(of: instance)
        for stage in job.stages[place.stage].dependencies {
            if hasItemStages && job.stages[stage].foreach != nil {
                for range in matching(place, in: stage) where !visit(range, stage) { return }
            } else if !visit(treeMatching(place, in: stage), stage) {
                return
            }
        }
    }

    /// Every instance of `stage` that is part of the study, in number order:
    /// a range for a tree stage, the live items for a foreach stage.
    public func members(ofStage stage: Int) -> StageMembers {
        guard job.stages[stage].foreach != nil else { return .tree(instances(ofStage: stage)) }
        return .items(items.liveInstances(ofStage: stage))
    }

    /// The instances that wait for this one (ranges, as in `dependencies`).
    public func dependents(of instance: InstanceID) -> [Range<Int>] {
        let place = coordinates(of: instance)
        guard hasItemStages else { return dependentStages[place.stage].map { treeMatching(place, in: $0) } }
        return dependentStages[place.stage].flatMap { matching(place, in: $0) }
    }

    /// How many instances this one waits for, without building the ranges.
    public func dependencyCount(of instance: InstanceID) -> Int {
        dependencies(of: instance).reduce(0) { $0 + $1.count }
    }

    /// The instances of `stage` on the same branch of the study tree as
    /// `place`: for a foreach stage, the same item when `place` is an item
    /// of the same generator, else every item of each generator instance on
    /// the branch. The rule is symmetric, so it serves both directions.
    private func matching(_ place: InstanceCoordinates, in stage: Int) -> [Range<Int>] {
        guard let generatorStage = job.stages[stage].foreach else { return [treeMatching(place, in: stage)] }
        if let generator = place.generator, let item = place.item, self.stage(of: generator) == generatorStage {
            guard let instance = itemInstance(ofStage: stage, generator: generator, item: item), isLive(instance) else { return [] }
            return [instance.index..<instance.index + 1]
        }
        return treeMatching(place, in: generatorStage).flatMap { items.ranges(ofStage: stage, generator: InstanceID($0)) }
    }

    /// `matching` within the study tree (`stage` is not a foreach stage).
    private func treeMatching(_ place: InstanceCoordinates, in stage: Int) -> Range<Int> {
        let base = stageStart[stage]
        switch job.stages[stage].domain {
        case .study:
            return base..<base + 1
        case .subject:
            guard let subject = place.subject else { return instances(ofStage: stage) }
            return base + subject..<base + subject + 1
        case .session:
            if let session = place.session { return base + session..<base + session + 1 }
            guard let subject = place.subject else { return instances(ofStage: stage) }
            return base + sessionStart[subject]..<base + sessionStart[subject + 1]
        }
    }

    /// `stage:subject:session`, the name users see and give to `--only`
    /// (`stage:subject` for a subject's implicit session, named ""; an item
    /// instance's ends in `:item`).
    public func name(of instance: InstanceID) -> String {
        let place = coordinates(of: instance)
        var name = job.stages[place.stage].name
        if let subject = place.subject { name += ":" + job.subjects[subject].name }
        if let session = place.session {
            let sessionName = sessionName(session)
            if !sessionName.isEmpty { name += ":" + sessionName }
        }
        if let item = item(of: instance) { name += ":" + item }
        return name
    }

    /// The instance's subject and session names ("" where the domain has none).
    public func labels(of instance: InstanceID) -> (subject: String, session: String) {
        let place = coordinates(of: instance)
        return (place.subject.map { job.subjects[$0].name } ?? "", place.session.map(sessionName) ?? "")
    }
}

/// Index of the first element greater than `value` in ascending `array`.
private func upperBound(_ array: [Int], _ value: Int) -> Int {
    var low = 0, high = array.count
    while low < high {
        let middle = (low + high) / 2
        if array[middle] <= value { low = middle + 1 } else { high = middle }
    }
    return low
}
