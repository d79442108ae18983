public import CohortCore
public import CohortMPI

/// How rank 0 talks to its worker ranks. MPI in a run; an in-memory fake in tests.
public protocol SchedulerTransport {
    /// Ranks that work (1 ... size-1 under MPI).
    var workerRanks: [Int] { get }
    func send(_ message: SchedulerMessage, to rank: Int) throws
    /// The next message from any worker, or nil at once when none is waiting.
    func poll() throws -> (rank: Int, message: WorkerMessage)?
    /// Waits a moment for what was sent to leave (before the run ends).
    func finishSending()
}

extension SchedulerTransport {
    public func finishSending() {}
}

/// `SchedulerTransport` over MPI_COMM_WORLD.
public struct MPISchedulerTransport: SchedulerTransport {
    let communicator: Communicator
    let outbox: Outbox
    public let workerRanks: [Int]

    public init(communicator: Communicator, size: Int) {
        self.communicator = communicator
        self.outbox = Outbox(communicator: communicator)
        self.workerRanks = Array(1..<max(1, size))
    }

    public func send(_ message: SchedulerMessage, to rank: Int) throws {
        try outbox.send(message.encoded(), to: Rank(rank))
    }

    public func poll() throws -> (rank: Int, message: WorkerMessage)? {
        try outbox.release()
        guard let envelope = try communicator.pendingMessage() else { return nil }
        let bytes = try communicator.receive(envelope)
        return (Int(envelope.source.rawValue), try WorkerMessage(decoding: bytes))
    }

    public func finishSending() {
        _ = try? outbox.flush(timeout: 5)
    }
}
