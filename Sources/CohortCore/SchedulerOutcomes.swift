/// How the end of an attempt counts: the outcome a report settles to, and
/// the retries it has spent.
extension Scheduler {
    /// What a worker's report of `instance` means for this run: a module
    /// stopped because the run is stopping was interrupted, one stopped
    /// because its worker is leaving was lost; otherwise as reported.
    /// The outcome to journal; `instanceFinished` settles it the same way.
    /// `aheadEnded`: the follow-on `instance` is still queued here, but the
    /// end of the one ahead of it came in the same batch of reports, before
    /// this one: its worker started it (after a success, or because the one
    /// ahead had ended when the order came), since a worker gives a
    /// follow-on back before it reports the end ahead of it.
    public func settled(_ reported: AttemptOutcome, of instance: InstanceID, aheadEnded: Bool = false) -> AttemptOutcome {
        if reported.succeeded { return .succeeded }
        if stopping { return .interrupted }
        // A follow-on reported while still queued: its worker never started it.
        if !aheadEnded, queuedBehind[instance] != nil { return .lost }
        if let worker = runningOn[instance], leaving.contains(worker) { return .lost }
        // A multi-node instance loses its attempt with any of its nodes.
        if !leaving.isEmpty, let members = gangs.members[instance], members.contains(where: { leaving.contains(workers[$0].id) }) {
            return .lost
        }
        return reported
    }

    /// Retries spent by the attempt now ending: attempts lost with their
    /// worker use up none, and a watch's look spends only its own.
    func retriesUsed(by instance: InstanceID) -> Int {
        attempt(of: instance) - 1 - (lostAttempts[instance] ?? 0) - (watches.watches[instance]?.retriesBeforeLook ?? 0)
    }
}
