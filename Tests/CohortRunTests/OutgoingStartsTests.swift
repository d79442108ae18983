import CohortCore
@testable import CohortRun
import Testing

/// Starts for worker ranks leave as one message per rank, never after a
/// later message to the same rank.
@Suite struct OutgoingStartsTests {
    final class RecordingTransport: SchedulerTransport {
        var sent: [(rank: Int, message: SchedulerMessage)] = []
        var workerRanks: [Int] { [1, 2] }
        func send(_ message: SchedulerMessage, to rank: Int) throws { sent.append((rank, message)) }
        func poll() throws -> (rank: Int, message: WorkerMessage)? { nil }
    }

    func assignment(_ index: Int32) -> TaskAssignment {
        TaskAssignment(instance: InstanceID(rawValue: index), stage: 0, subject: "s\(index)", session: "", attempt: 1)
    }

    @Test func oneMessagePerRankInTheOrderTheRanksCameFirst() throws {
        let transport = RecordingTransport()
        var outgoing = OutgoingStarts()
        outgoing.add(assignment(1), to: WorkerID(2))
        outgoing.add(assignment(2), to: WorkerID(1))
        outgoing.add(assignment(3), to: WorkerID(2))
        #expect(transport.sent.isEmpty, "nothing leaves before the batch is sent")
        try outgoing.sendAll(over: transport)
        #expect(transport.sent.map(\.rank) == [2, 1])
        #expect(transport.sent.map(\.message) == [.run([assignment(1), assignment(3)]), .run([assignment(2)])])
        try outgoing.sendAll(over: transport)
        #expect(transport.sent.count == 2, "each start is sent once")
    }

    @Test func oneRanksStartsCanLeaveFirstAndTheOthersStayQueued() throws {
        let transport = RecordingTransport()
        var outgoing = OutgoingStarts()
        outgoing.add(assignment(1), to: WorkerID(1))
        outgoing.add(assignment(2), to: WorkerID(2))
        // As `perform` does before a recall or a stop to rank 1.
        try outgoing.send(to: WorkerID(1), over: transport)
        try transport.send(.stop, to: 1)
        try outgoing.sendAll(over: transport)
        #expect(transport.sent.map(\.rank) == [1, 1, 2])
        #expect(transport.sent.map(\.message) == [.run([assignment(1)]), .stop, .run([assignment(2)])])
    }
}
