import CohortCore
import Testing

/// A worker rank's follow-ons: what starts, what is given back, and the
/// order rank 0 hears of it (it settles a report by whether it still sees
/// the instance queued).
@Suite struct FollowOnQueueTests {
    func order(_ index: Int32, after ahead: Int32? = nil) -> TaskOrder {
        var order = TaskOrder(instance: InstanceID(rawValue: index), name: "s:\(index)", command: "true", directory: "/",
                              instanceFolder: "/o/\(index)", attemptFolder: "/a/\(index)/1", asideFolder: "/a/\(index)/0/files",
                              stageEnvironment: [], cpus: 1)
        order.after = ahead.map { InstanceID(rawValue: $0) }
        return order
    }

    func report(_ index: Int32, _ outcome: AttemptOutcome) -> TaskReport {
        TaskReport(instance: InstanceID(rawValue: index), outcome: outcome, wallSeconds: 0.01, peakMemoryKiB: 1, logTail: "")
    }

    @Test func aFollowOnWaitsOnlyForAnInstanceStillRunningHere() {
        var queue = FollowOnQueue()
        let heldPlain = queue.hold(order(1), aheadIsRunning: { _ in true })
        #expect(!heldPlain, "not a follow-on: starts now")
        let heldAfterEnded = queue.hold(order(2, after: 9), aheadIsRunning: { _ in false })
        #expect(!heldAfterEnded, "the one ahead has ended: starts now")
        #expect(queue.isEmpty)
        let held = queue.hold(order(3, after: 1), aheadIsRunning: { $0 == InstanceID(1) })
        #expect(held)
        #expect(!queue.isEmpty)
    }

    @Test func afterASuccessTheFollowOnStartsBeforeTheEndIsReported() {
        var queue = FollowOnQueue()
        _ = queue.hold(order(2, after: 1), aheadIsRunning: { _ in true })
        let afterSuccess = queue.ended(report(1, .succeeded))
        #expect(afterSuccess == [.start(order(2, after: 1)), .report(report(1, .succeeded))])
        #expect(queue.isEmpty)
        let afterFollowOn = queue.ended(report(2, .succeeded))
        #expect(afterFollowOn == [.report(report(2, .succeeded))])
    }

    @Test func afterAFailureTheFollowOnIsGivenBackBeforeTheFailureIsReported() {
        var queue = FollowOnQueue()
        _ = queue.hold(order(2, after: 1), aheadIsRunning: { _ in true })
        let afterFailure = queue.ended(report(1, .exited(1)))
        #expect(afterFailure == [.giveBack(order(2, after: 1)), .report(report(1, .exited(1)))])
        #expect(queue.isEmpty)
    }

    @Test func recallGivesBackOnlyWhatHasNotStarted() {
        var queue = FollowOnQueue()
        _ = queue.hold(order(2, after: 1), aheadIsRunning: { _ in true })
        _ = queue.hold(order(4, after: 3), aheadIsRunning: { _ in true })
        let recalled = queue.recall(InstanceID(2))
        #expect(recalled == order(2, after: 1))
        let recalledAgain = queue.recall(InstanceID(2))
        #expect(recalledAgain == nil, "given back once")
        let afterRecall = queue.ended(report(1, .succeeded))
        #expect(afterRecall == [.report(report(1, .succeeded))], "nothing left behind 1")
        let givenBack = queue.giveAllBack()
        #expect(givenBack == [order(4, after: 3)])
        #expect(queue.isEmpty)
        #expect(FollowOnQueue.notStarted(order(4)).outcome == .couldNotStart("not started by its worker"))
    }
}
