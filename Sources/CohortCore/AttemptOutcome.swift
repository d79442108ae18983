/// How one attempt of an instance ended: the one spelling shared by a
/// worker's report, the scheduler, the journal, the summary and `status`.
/// A failed module is a result, not an error.
public enum AttemptOutcome: Hashable, Sendable {
    /// The module exited with status 0.
    case succeeded
    /// The module exited with this non-zero status.
    case exited(Int32)
    /// The module was killed by this signal (its own crash, the OOM killer, a kill).
    case signaled(Int32)
    /// Ran past its stage's timeout and was stopped.
    case timedOut
    /// The worker could not start it (folder not creatable, spawn failed).
    case couldNotStart(String)
    /// A generator (`items: true`) exited 0 but its `$COHORT_ITEMS` cannot
    /// be used (missing, or a line that leaves the job folder): why.
    case badItems(String)
    /// Stopped because the run was stopping: it runs again next time,
    /// neither failed nor retried.
    case interrupted
    /// Stopped because its worker left the run (a signal to that rank
    /// alone): started again elsewhere, without using up a retry. The
    /// journal keeps it as `interrupted` (both mean "did not finish").
    case lost

    /// What a process's exit status says.
    public init(exitStatus: Int32) {
        self = exitStatus == 0 ? .succeeded : .exited(exitStatus)
    }

    public var succeeded: Bool { self == .succeeded }

    /// The module failed (retried while tries remain), as opposed to
    /// succeeding or being stopped by the run or its worker.
    public var isFailure: Bool {
        switch self {
        case .succeeded, .interrupted, .lost: false
        case .exited, .signaled, .timedOut, .couldNotStart, .badItems: true
        }
    }

    /// The attempt did not finish through no fault of its module.
    public var isStoppedEarly: Bool { self == .interrupted || self == .lost }

    /// "exit status 3", "killed by signal 9 (SIGKILL)", "timed out", ...
    public var text: String {
        switch self {
        case .succeeded: "done"
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        case .couldNotStart(let reason): "could not start: \(reason)"
        case .badItems(let reason): "its item list: \(reason)"
        case .timedOut: "timed out"
        case .interrupted: "interrupted"
        case .lost: "interrupted (its worker left the run)"
        }
    }

    /// The usual name of a signal a module is killed by, if it has one.
    public static func signalName(_ signal: Int32) -> String? {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL",
                                      11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU"]
        return names[signal]
    }
}
