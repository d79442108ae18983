internal import CMPI

/// Process-wide MPI lifetime: `MPI_Init_thread` once, `MPI_Finalize` once.
///
/// Cohort calls MPI from a single thread (the rank's main loop), so it asks
/// for `MPI_THREAD_FUNNELED`.
public enum MPIRuntime {
    /// Starts MPI (also without `mpirun`: OpenMPI then runs as a singleton,
    /// rank 0 of 1) and makes errors on the world communicator return codes.
    public static func initialize() throws(MPIError) {
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided), "MPI_Init_thread")
        try check(MPI_Comm_set_errhandler(CMPI_comm_world(), CMPI_errors_return()), "MPI_Comm_set_errhandler")
    }

    /// Ends MPI; call once, after the last message.
    public static func finalize() throws(MPIError) {
        try check(MPI_Finalize(), "MPI_Finalize")
    }

    /// Whether `initialize` has run and `finalize` has not.
    public static var isActive: Bool {
        var started: Int32 = 0
        var ended: Int32 = 0
        MPI_Initialized(&started)
        MPI_Finalized(&ended)
        return started != 0 && ended == 0
    }

    /// Ends every rank of the job with `code`; for unrecoverable states only.
    public static func abort(code: Int32) -> Never {
        MPI_Abort(CMPI_comm_world(), code)
        fatalError("MPI_Abort returned")
    }
}
