internal import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// Messages on their way out (`MPI_Isend`): sending never waits.
///
/// A blocking `MPI_Send` waits until its bytes are taken, and OpenMPI waits
/// by yielding the CPU when ranks share cores: on a busy node that hands
/// the CPU to a module for a whole time slice, on rank 0 once per order
/// (a profile of 5,000 one-millisecond modules showed it). A message too
/// large to go at once would also wait for the receiver to ask for it.
/// Each message's bytes stay here until MPI has finished with them; MPI
/// delivers messages between two ranks in the order they were sent.
public final class Outbox {
    private let communicator: Communicator
    private var inFlight: [(request: MPI_Request?, bytes: UnsafeMutableRawBufferPointer)] = []

    public init(communicator: Communicator) {
        self.communicator = communicator
    }

    // A send still in flight may yet read its bytes: those are left alone.
    deinit { _ = try? release() }

    /// How many messages have not left yet.
    public var count: Int { inFlight.count }

    public func send(_ bytes: [UInt8], to destination: Rank, tag: Tag = .cohort) throws(MPIError) {
        precondition(bytes.count <= Int(Int32.max), "message too large for one MPI_Isend")
        try release()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        var request: MPI_Request? = nil
        let code = MPI_Isend(buffer.baseAddress, Int32(bytes.count), CMPI_byte(), destination.rawValue, tag.rawValue,
                             communicator.handle, &request)
        guard code == MPI_SUCCESS else {
            buffer.deallocate()
            try check(code, "MPI_Isend to \(destination)")
            return
        }
        inFlight.append((request, buffer))
    }

    /// Frees the messages MPI has finished sending; true when none is left.
    @discardableResult
    public func release() throws(MPIError) -> Bool {
        var index = 0
        while index < inFlight.count {
            var done: Int32 = 0
            try check(MPI_Test(&inFlight[index].request, &done, nil), "MPI_Test")
            if done != 0 {
                inFlight[index].bytes.deallocate()
                inFlight.swapAt(index, inFlight.count - 1)
                inFlight.removeLast()
            } else {
                index += 1
            }
        }
        return inFlight.isEmpty
    }

    /// Waits until every message has left, polling (never spinning a core);
    /// false if some had not after `timeout` seconds.
    public func flush(timeout: Double) throws(MPIError) -> Bool {
        var waited = 0.0
        while !(try release()) {
            guard waited < timeout else { return false }
            usleep(200)
            waited += 0.0002
        }
        return true
    }
}
