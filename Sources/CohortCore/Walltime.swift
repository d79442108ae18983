/// The allocation's end and how long each stage typically takes.
public struct Walltime: Sendable {
    /// Seconds since the epoch.
    public var end: Double
    /// Per stage: median seconds from the journal, nil when unknown (then it is started anyway).
    public var stageDurations: [Double?]
    /// When the allocation started (seconds since the epoch), if known.
    public var start: Double?
    /// Seconds before `end` when the stop signal comes (`--signal=B:USR1@120`):
    /// work must end by then.
    public var lead: Double

    public init(end: Double, stageDurations: [Double?], start: Double? = nil, lead: Double = 0) {
        self.end = end
        self.stageDurations = stageDurations
        self.start = start
        self.lead = lead
    }

    /// When work must be done by.
    public var usableEnd: Double { end - lead }

    /// Whether `stage` typically takes longer than a whole allocation of this
    /// length: resubmitting the same job would hold it again, for ever.
    public func neverFits(_ stage: Int) -> Bool {
        guard let start, let duration = stageDurations[stage] else { return false }
        return duration > usableEnd - start
    }
}

/// A stage whose typical duration exceeds the job's whole time limit.
public struct TooLongStage: Hashable, Sendable {
    public var name: String
    public var typicalSeconds: Double
    public var allocationSeconds: Double

    public init(name: String, typicalSeconds: Double, allocationSeconds: Double) {
        self.name = name
        self.typicalSeconds = typicalSeconds
        self.allocationSeconds = allocationSeconds
    }
}

/// Walltime holds (DESIGN §7): what would not end before the allocation
/// does is not started; the run ends with it held, and the next job runs it.
extension Scheduler {
    /// The wall clock reads `now` (seconds since the epoch): stages whose
    /// typical duration no longer fits before the allocation ends are held,
    /// each announced once (`holdStarted`) while it has work left.
    /// Watches whose next look is due then look again (after the holds:
    /// a look of a held stage waits), and suspects held too long work again.
    public mutating func timePassed(now: Double) -> [SchedulerAction] {
        var actions = holdsFor(now: now)
        if !watches.isEmpty {
            watches.now = now
            looksDue(into: &actions)
        }
        if releaseLongSuspicions(now: now) && !stopping { dispatch(into: &actions) }
        return actions
    }

    private mutating func holdsFor(now: Double) -> [SchedulerAction] {
        guard let walltime, !stopping else { return [] }
        let left = walltime.usableEnd - now
        var stages: Set<Int> = []
        for (stage, duration) in walltime.stageDurations.enumerated() {
            if let duration, duration > left { stages.insert(stage) }
        }
        guard stages != held else { return [] }
        var actions: [SchedulerAction] = []
        for stage in stages.subtracting(announcedHolds).sorted() where hasWorkLeft(stage) {
            announcedHolds.insert(stage)
            actions.append(.holdStarted(stage: stage, typicalSeconds: walltime.stageDurations[stage] ?? 0, secondsLeft: max(0, left)))
        }
        return actions + hold(stages: stages)
    }

    /// Stages to leave unstarted for now (their expected duration does not
    /// fit before the allocation ends). With nothing running and only held
    /// work ready, the run finishes; what was held runs next time.
    public mutating func hold(stages: Set<Int>) -> [SchedulerAction] {
        held = stages
        var actions: [SchedulerAction] = []
        dispatch(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    /// Whether the run ended (or is ending) with work held back.
    public var isHoldingWork: Bool {
        held.contains(where: hasReady)
    }

    /// Held stages with work left that would not fit even in a fresh
    /// allocation of this length: resubmitting cannot help them.
    public var tooLongForAnyAllocation: [TooLongStage] {
        guard let walltime, let start = walltime.start else { return [] }
        return held.sorted().filter { walltime.neverFits($0) && tallies[$0].waiting + tallies[$0].ready > 0 }
            .map { TooLongStage(name: graph.job.stages[$0].name, typicalSeconds: walltime.stageDurations[$0] ?? 0,
                                allocationSeconds: walltime.usableEnd - start) }
    }

    private func hasWorkLeft(_ stage: Int) -> Bool { tallies[stage].waiting + tallies[stage].ready > 0 }
}
