/// Follow-ons: an instance queued on a worker behind one running there,
/// which the worker starts the moment that one ends, instead of waiting
/// for rank 0 to hear of the end and answer. That round trip takes about a
/// millisecond with ranks sharing cores, as long as a short module itself.
///
/// Only behind attempts of stages that are short in this run (their
/// typical success under `followOnsBelow` seconds), so that nothing waits
/// long behind a slow attempt while another worker frees up; only of
/// stages without locks (a queued instance would hold them while it
/// waits); only an instance that fits in the room the one ahead of it
/// leaves; at most one behind each running instance.
///
/// Only workers whose room changed in this event are looked at (a worker
/// whose instances run on gets its follow-ons at its next report), so an
/// event costs the same with ten workers as with ten thousand.
extension Scheduler {
    /// The instance a follow-on still waits behind (nil once it is started, or for any other instance).
    public func queuedAhead(of instance: InstanceID) -> InstanceID? {
        queuedBehind.isEmpty ? nil : queuedBehind[instance]
    }

    mutating func queueFollowOns(into actions: inout [SchedulerAction]) {
        let touched = Set(touchedWorkers)
        touchedWorkers.removeAll(keepingCapacity: true)
        guard readyCount > 0, typicalSeconds.contains(where: { $0.map { $0 < followOnsBelow } ?? false }) else { return }
        let bySubject: Bool = if case .subjectsFirst = policy { throughputBound } else { false }
        for index in touched.sorted()
        where workers[index].profile.queuesFollowOns && !workers[index].drained && !workers[index].suspect && !workers[index].reserved {
            var position = 0
            while readyCount > 0 && position < workers[index].withoutFollowOn.count {
                let ahead = workers[index].withoutFollowOn[position]
                let aheadStage = graph.stage(of: ahead)
                var room = workers[index]
                room.free = graph.job.stages[aheadStage].demand
                guard isShort(aheadStage),
                      let stage = bestStage(for: room, reserved: [], bySubject: bySubject, unlockedOnly: true) else {
                    position += 1
                    continue
                }
                let next = nextInstance(of: stage, for: workers[index])
                workers[index].withoutFollowOn.remove(at: position)
                countStarted(next, stage: stage, onWorker: index)
                followOn[ahead] = next
                queuedBehind[next] = ahead
                queuedSince[next] = clockReading
                actions.append(.startAfter(next, on: workers[index].id, after: ahead))
            }
        }
    }

    /// Whether no worker can need rank 0's next answer within `seconds`:
    /// every instance running on a worker that takes follow-ons has one
    /// queued behind it, and every running stage typically takes at least
    /// that long. Then rank 0 may poll less often. (A scan of the stages and
    /// workers: asked when rank 0 is idle, not per event.)
    public func noWorkerNeedsAnAnswer(within seconds: Double) -> Bool {
        guard runningCount > 0 else { return false }  // a quiet run: the backoff grows on its own
        for stage in tallies.indices where tallies[stage].running > 0 {
            guard let typical = typicalSeconds[stage], typical >= seconds else { return false }
        }
        return workers.allSatisfy { $0.drained || !$0.profile.queuesFollowOns || $0.withoutFollowOn.isEmpty }
    }

    /// How long a follow-on may wait behind the attempt ahead of it before
    /// it is recalled, when another worker has room for it: ten times the
    /// longest attempt that gets follow-ons. An attempt of a short stage can
    /// still be slow (an outlier, a hang until its timeout).
    var recallAfter: Double { 10 * followOnsBelow }

    /// Follow-ons queued longer than `recallAfter` that a worker with room
    /// could run now: recalled (their workers report them not started, and
    /// they go back in line). `now`: any clock, the same every call.
    public mutating func recallStuckFollowOns(now: Double) -> [SchedulerAction] {
        clockReading = now
        var actions: [SchedulerAction] = []
        for (queued, since) in queuedSince where now - since > recallAfter && !recalled.contains(queued) {
            guard queuedBehind[queued] != nil, let worker = runningOn[queued] else { continue }
            let definition = graph.job.stages[graph.stage(of: queued)]
            let roomElsewhere = workers.contains { other in
                other.id != worker && !other.drained && !other.suspect && other.profile.takes(definition)
                    && other.free.fits(definition.demand)
            }
            guard roomElsewhere else { continue }
            recalled.insert(queued)
            actions.append(.recall(queued, on: worker))
        }
        return actions
    }

    /// Whether the stage's typical success in this run is short enough to queue behind.
    func isShort(_ stage: Int) -> Bool {
        typicalSeconds[stage].map { $0 < followOnsBelow } ?? false
    }

    /// Folds a success's wall seconds into its stage's typical duration.
    mutating func noteTypical(_ seconds: Double, stage: Int) {
        typicalSeconds[stage] = typicalSeconds[stage].map { 0.9 * $0 + 0.1 * seconds } ?? seconds
    }
}
