import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The signals that stop a run cleanly, noted by a handler and read by the
/// rank's loop (which never blocks long: it polls).
///
/// SIGINT (Ctrl-C) and SIGTERM (`kill`, mpirun's own shutdown, Slurm),
/// plus SIGUSR1 and SIGUSR2, which mpirun forwards to every rank as they are:
/// `mpirun.sh` turns Ctrl-C into SIGUSR2 and SIGTERM into SIGUSR1, so ranks
/// get time to stop instead of OpenMPI's SIGTERM-then-SIGKILL one second later.
public enum StopSignals {
    private static let received = Atomic<Int32>(0)
    private static let receivedCount = Atomic<Int>(0)
    private static let installed = Mutex(false)

    /// Installs the handlers once per process.
    public static func install() {
        installed.withLock { done in
            guard !done else { return }
            done = true
            for signal in [SIGINT, SIGTERM, SIGUSR1, SIGUSR2] {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = { number in
                    // Keep the first signal: it decides the exit code.
                    _ = StopSignals.received.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                    StopSignals.receivedCount.add(1, ordering: .relaxed)
                }
                sigemptyset(&action.sa_mask)
                action.sa_flags = SA_RESTART
                sigaction(signal, &action, nil)
            }
        }
    }

    /// The first stop signal received, if any.
    public static var pending: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// How many stop signals arrived: a second one means "stop now".
    public static var count: Int { receivedCount.load(ordering: .relaxed) }

    /// `cohort run`'s exit code for a stop by `signal`: 130 for an interrupt
    /// (SIGINT, or SIGUSR2 from mpirun.sh's Ctrl-C), 143 otherwise.
    public static func exitCode(for signal: Int32) -> Int32 {
        signal == SIGINT || signal == SIGUSR2 ? 130 : 143
    }

    /// The signal's name for messages. `mpirun.sh` sends SIGUSR1/SIGUSR2 in
    /// place of what the user sent (mpirun forwards only those), and notes
    /// the original in the file `COHORT_STOP_NOTE` names.
    public static func name(_ signal: Int32) -> String {
        if signal == SIGUSR1 || signal == SIGUSR2, let path = getenv("COHORT_STOP_NOTE") {
            let sent = readTail(String(cString: path), maxBytes: 64).filter { $0.isLetter || $0.isNumber }
            if !sent.isEmpty { return "\(sent) (sent to mpirun.sh)" }
        }
        return switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1 (a stop request)"
        case SIGUSR2: "SIGUSR2 (Ctrl-C through mpirun.sh)"
        default: "signal \(signal)"
        }
    }
}
