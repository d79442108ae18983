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
    private var requests: [MPI_Request?] = []
    /// Each request's bytes, at the same index.
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    public init(communicator: Communicator) {
        self.communicator = communicator
    }

    // No MPI call here: this may run after MPI_Finalize. Bytes of sends
    // still in flight are left alone (MPI may yet read them).

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
        requests.append(request)
        buffers.append(buffer)
    }

    /// Frees the messages MPI has finished sending (one MPI_Testsome for
    /// all); true when none is left.
    @discardableResult
    public func release() throws(MPIError) -> Bool {
        guard !requests.isEmpty else { return true }
        var completed: Int32 = 0
        var indices = [Int32](repeating: 0, count: requests.count)
        try check(MPI_Testsome(Int32(requests.count), &requests, &completed, &indices, CMPI_statuses_ignore()), "MPI_Testsome")
        if completed == MPI_UNDEFINED {
            // Every request was already inactive: nothing is in flight.
            for buffer in buffers { buffer.deallocate() }
            requests.removeAll()
            buffers.removeAll()
            return true
        }
        guard completed > 0 else { return false }
        var done = Set<Int>()
        for index in indices.prefix(Int(completed)) {
            buffers[Int(index)].deallocate()
            done.insert(Int(index))
        }
        var kept = 0
        for index in requests.indices where !done.contains(index) {
            requests[kept] = requests[index]
            buffers[kept] = buffers[index]
            kept += 1
        }
        requests.removeLast(requests.count - kept)
        buffers.removeLast(buffers.count - kept)
        return requests.isEmpty
    }

    /// Waits until every message has left, polling (never spinning a core);
    /// false if some had not after `timeout` seconds.
    public func flush(timeout: Double) throws(MPIError) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + timeout
        while !(try release()) {
            clock_gettime(CLOCK_MONOTONIC, &now)
            guard Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 < deadline else { return false }
            usleep(200)
        }
        return true
    }
}
