internal import CMPI

/// A process's number within a communicator; rank 0 is Cohort's scheduler.
public struct Rank: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ value: Int) { self.rawValue = Int32(value) }

    /// The scheduler's rank.
    public static let scheduler = Rank(rawValue: 0)

    public static func < (a: Rank, b: Rank) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "rank \(rawValue)" }
}

/// An MPI message tag. Cohort uses one tag: the message kind is in the payload.
public struct Tag: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Every Cohort message travels under this tag.
    public static let cohort = Tag(rawValue: 7)
}

/// A message waiting to be received: who sent it and how many bytes it has.
public struct Envelope: Sendable {
    public var source: Rank
    public var byteCount: Int
}

/// A group of ranks that exchange byte messages (`MPI_Comm`).
public struct Communicator: @unchecked Sendable {
    // `MPI_Comm` is a pointer in OpenMPI; the handle itself is never mutated.
    let handle: MPI_Comm

    /// Every rank of the job (`MPI_COMM_WORLD`).
    public static var world: Communicator { Communicator(handle: CMPI_comm_world()) }

    /// This process's rank (`MPI_Comm_rank`).
    public func rank() throws(MPIError) -> Rank {
        var value: Int32 = 0
        try check(MPI_Comm_rank(handle, &value), "MPI_Comm_rank")
        return Rank(rawValue: value)
    }

    /// How many ranks the communicator has (`MPI_Comm_size`).
    public func size() throws(MPIError) -> Int {
        var value: Int32 = 0
        try check(MPI_Comm_size(handle, &value), "MPI_Comm_size")
        return Int(value)
    }

    /// Returns the next pending message's envelope without waiting
    /// (`MPI_Iprobe`), or nil when none is there. Never blocks: OpenMPI's
    /// blocking calls spin a full core while they wait.
    public func pendingMessage(tag: Tag = .cohort) throws(MPIError) -> Envelope? {
        var flag: Int32 = 0
        var status = MPI_Status()
        try check(MPI_Iprobe(MPI_ANY_SOURCE, tag.rawValue, handle, &flag, &status), "MPI_Iprobe")
        guard flag != 0 else { return nil }
        var count: Int32 = 0
        try check(MPI_Get_count(&status, CMPI_byte(), &count), "MPI_Get_count")
        return Envelope(source: Rank(rawValue: status.MPI_SOURCE), byteCount: Int(count))
    }

    /// Receives the message `envelope` announced (`MPI_Recv`).
    public func receive(_ envelope: Envelope, tag: Tag = .cohort) throws(MPIError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: envelope.byteCount)
        let code = bytes.withUnsafeMutableBytes { buffer in
            MPI_Recv(buffer.baseAddress, Int32(buffer.count), CMPI_byte(), envelope.source.rawValue, tag.rawValue, handle, nil)
        }
        try check(code, "MPI_Recv from \(envelope.source)")
        return bytes
    }
}
