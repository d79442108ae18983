/// A worker rank's follow-ons (see `Scheduler.followOnsBelow`): orders
/// held until the instance ahead of each ends on this rank. It decides
/// what starts and what is given back, and in which order rank 0 hears of
/// it: rank 0 settles a report by whether it still sees the instance
/// queued, so the order of reports is part of the protocol.
public struct FollowOnQueue {
    /// What the worker does, in order.
    public enum Step: Equatable, Sendable {
        case start(TaskOrder)
        /// Report it not started (`notStarted`).
        case giveBack(TaskOrder)
        case report(TaskReport)
    }

    /// By the instance each waits for.
    private var held: [InstanceID: TaskOrder] = [:]

    public init() {}

    public var isEmpty: Bool { held.isEmpty }

    /// Holds `order` when the instance it follows still runs on this rank;
    /// false when it should start now (it follows nothing, or that instance
    /// has ended already).
    public mutating func hold(_ order: TaskOrder, aheadIsRunning: (InstanceID) -> Bool) -> Bool {
        guard let ahead = order.after, aheadIsRunning(ahead) else { return false }
        held[ahead] = order
        return true
    }

    /// `report`'s instance ended on this rank. After a success its
    /// follow-on starts first (that is what it is for), then the end is
    /// reported. After a failure (a broken node?) rank 0 decides where the
    /// follow-on runs: it is given back before the failure is reported, so
    /// that rank 0 still sees it queued, never started, and puts it back in
    /// line without using a retry.
    public mutating func ended(_ report: TaskReport) -> [Step] {
        guard let next = held.removeValue(forKey: report.instance) else { return [.report(report)] }
        if report.outcome.succeeded { return [.start(next), .report(report)] }
        return [.giveBack(next), .report(report)]
    }

    /// Rank 0 wants the follow-on `instance` back: the order to give back
    /// when it is still held; nil when it has started (its report will come).
    public mutating func recall(_ instance: InstanceID) -> TaskOrder? {
        guard let ahead = held.first(where: { $0.value.instance == instance })?.key else { return nil }
        return held.removeValue(forKey: ahead)
    }

    /// A stopping rank starts no follow-on: each is given back.
    public mutating func giveAllBack() -> [TaskOrder] {
        defer { held.removeAll() }
        return Array(held.values)
    }

    /// The report of an order a rank did not start: rank 0 counts it
    /// interrupted in a stop, else puts it back in line (lost: no retry used).
    public static func notStarted(_ order: TaskOrder) -> TaskReport {
        TaskReport(instance: order.instance, outcome: .couldNotStart("not started by its worker"),
                   wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
    }
}
