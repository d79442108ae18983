/// Why an attempt failed, in plain words, where it can be told from what
/// the journal and the log hold (DESIGN §6): the words a scientist would
/// otherwise work out from an exit status and a log.
public enum FailureCause {
    /// `stageMemory`: the stage's `memory:` in bytes (0 when not set);
    /// `stderrTail`: the end of the module's stderr, if read.
    public static func explain(_ outcome: AttemptOutcome, peakMemoryKiB: Int, stageMemory: Int64,
                               stderrTail: String = "") -> String? {
        var tail = stderrTail.lowercased()
        // The worker's own writes fail with the same words (creating the folders, the logs).
        if case .couldNotStart(let reason) = outcome { tail += "\n" + reason.lowercased() }
        if tail.contains("no space left on device") || tail.contains("disk quota exceeded") {
            return "disk full (no space left on device)"
        }
        // A shell that ran the module's command as a child reports its death
        // by signal N as exit 128 + N: the same causes, said of "its command".
        if case .exited(let code) = outcome, [137, 139, 134].contains(code),
           let cause = explain(.signaled(code - 128), peakMemoryKiB: peakMemoryKiB, stageMemory: stageMemory) {
            return "its command " + cause + " (exit \(code))"
        }
        switch outcome {
        case .timedOut:
            return "timed out (ran past the stage's timeout)"
        case .signaled(9):
            // The kernel's OOM killer and Slurm's memory cgroup both send SIGKILL.
            if stageMemory > 0, Int64(peakMemoryKiB) * 1024 >= stageMemory * 9 / 10 {
                // No numbers of the attempt's own: alike failures must read alike (they are grouped by it).
                return "probably ran out of memory (killed by SIGKILL near the stage's memory: \(Quantity.describe(bytes: stageMemory)))"
            }
            return "was killed by SIGKILL: probably out of memory, or killed by the system or an administrator"
        case .signaled(11):
            return "crashed (segmentation fault)"
        case .signaled(6):
            return "aborted (SIGABRT: a failed assertion or a crash)"
        case .exited(127):
            return "command not found (exit 127)"
        case .exited(126):
            return "command not executable (exit 126)"
        case .couldNotStart(let reason):
            return "could not start: \(reason)"
        case .badItems(let reason):
            return "its item list ($COHORT_ITEMS): \(reason)"
        default:
            if tail.contains("command not found") { return "a command was not found" }
            if tail.contains("permission denied") { return "permission denied" }
            return nil
        }
    }
}
