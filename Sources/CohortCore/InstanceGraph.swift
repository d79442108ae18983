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
public struct InstanceCoordinates: Hashable, Sendable {
    public var stage: Int
    public var subject: Int?
    public var session: Int?
}

/// The DAG of stage instances under aa's domain rules (DESIGN §3), kept
/// implicit: instance numbers and dependencies are arithmetic on the study
/// tree, so nothing is stored per edge and nothing compares instances pairwise.
///
/// Layout: stage after stage; a study stage has one instance, a subject stage
/// one per subject in order, a session stage one per (subject, session) in
/// subject-major order. The sessions of one subject are therefore contiguous,
/// and every dependency of an instance on one stage is one contiguous range.
public struct InstanceGraph: Sendable {
    public let job: Job
    /// First instance of each stage, plus the total at the end.
    private let stageStart: [Int]
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
            let count = switch stage.domain {
            case .study: 1
            case .subject: job.subjects.count
            case .session: sessionStart[sessionStart.count - 1]
            }
            let (total, overflow) = stageStart[stageStart.count - 1].addingReportingOverflow(count)
            guard !overflow, total <= Self.maximumInstances else { throw TooLarge(instances: total) }
            stageStart.append(total)
        }
        var dependents = Array(repeating: [Int](), count: job.stages.count)
        for (index, stage) in job.stages.enumerated() {
            for dependency in stage.dependencies { dependents[dependency].append(index) }
        }
        self.sessionStart = sessionStart
        self.stageStart = stageStart
        self.dependentStages = dependents
    }

    public var instanceCount: Int { stageStart[stageStart.count - 1] }
    public var sessionCount: Int { sessionStart[sessionStart.count - 1] }

    /// The instances of stage `stage`.
    public func instances(ofStage stage: Int) -> Range<Int> { stageStart[stage]..<stageStart[stage + 1] }

    public func stage(of instance: InstanceID) -> Int {
        upperBound(stageStart, instance.index) - 1
    }

    public func coordinates(of instance: InstanceID) -> InstanceCoordinates {
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
    /// those whose coordinates agree with its own on every level both have.
    public func dependencies(of instance: InstanceID) -> [Range<Int>] {
        let place = coordinates(of: instance)
        return job.stages[place.stage].dependencies.map { matching(place, in: $0) }
    }

    /// The instances that wait for this one, as one range per dependent stage.
    public func dependents(of instance: InstanceID) -> [Range<Int>] {
        let place = coordinates(of: instance)
        return dependentStages[place.stage].map { matching(place, in: $0) }
    }

    /// How many instances this one waits for, without building the ranges.
    public func dependencyCount(of instance: InstanceID) -> Int {
        dependencies(of: instance).reduce(0) { $0 + $1.count }
    }

    /// The instances of `stage` on the same branch of the study tree as `place`.
    /// The rule is symmetric, so it serves both directions.
    private func matching(_ place: InstanceCoordinates, in stage: Int) -> Range<Int> {
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
    /// (`stage:subject` for a subject's implicit session, named "").
    public func name(of instance: InstanceID) -> String {
        let place = coordinates(of: instance)
        var name = job.stages[place.stage].name
        if let subject = place.subject { name += ":" + job.subjects[subject].name }
        if let session = place.session {
            let sessionName = sessionName(session)
            if !sessionName.isEmpty { name += ":" + sessionName }
        }
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
