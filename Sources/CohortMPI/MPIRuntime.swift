internal import CMPI
#if canImport(Glibc)
import Glibc
#endif

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
    /// Without MPI running (one process, no launcher) it ends this process.
    public static func abort(code: Int32) -> Never {
        guard isActive else { exit(code) }
        MPI_Abort(CMPI_comm_world(), code)
        fatalError("MPI_Abort returned")
    }

    /// Whether an MPI launcher started this process (`mpirun`, or `srun`
    /// with a PMI plugin), from the variables each sets for its ranks.
    /// Without one, a process is a job of one rank on its own: OpenMPI's
    /// singleton start forks a daemon (`orted`) that takes 0.3 s at best,
    /// seconds when its security plugin waits for a munge that does not
    /// answer, for a rank that never sends a message.
    public static func isLaunched(environment: [String: String]) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }
}
