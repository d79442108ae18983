import CohortCore
import Testing

/// Causes in plain words, from what the outcome and the log tell.
@Suite struct FailureCauseTests {
    let gigabyte: Int64 = 1 << 30

    @Test func sigkillNearTheStagesMemoryIsOutOfMemoryElseOnlyProbably() {
        let near = FailureCause.explain(.signaled(9), peakMemoryKiB: 950 * 1024, stageMemory: gigabyte)
        #expect(near == "probably ran out of memory (killed by SIGKILL near the stage's memory: 1G)")
        let far = FailureCause.explain(.signaled(9), peakMemoryKiB: 6 * 1024, stageMemory: 4 * gigabyte)
        #expect(far?.hasPrefix("was killed by SIGKILL: probably out of memory, or killed by the system") == true, "\(far ?? "")")
    }

    /// `sh -c` forks the command when it is not the last one: its death by
    /// a signal is the shell's exit 128 + N, and gets the same cause.
    @Test func aShellsExitForItsCommandsSignalGetsThatSignalsCause() {
        let far = FailureCause.explain(.exited(137), peakMemoryKiB: 6 * 1024, stageMemory: 4 * gigabyte)
        #expect(far == "its command was killed by SIGKILL: probably out of memory, or killed by the system or an administrator (exit 137)")
        let near = FailureCause.explain(.exited(137), peakMemoryKiB: 4 * 1024 * 1024, stageMemory: 4 * gigabyte)
        #expect(near == "its command probably ran out of memory (killed by SIGKILL near the stage's memory: 4G) (exit 137)")
        #expect(FailureCause.explain(.exited(139), peakMemoryKiB: 0, stageMemory: 0) == "its command crashed (segmentation fault) (exit 139)")
        #expect(FailureCause.explain(.exited(134), peakMemoryKiB: 0, stageMemory: 0)?.hasPrefix("its command aborted (SIGABRT") == true)
        #expect(FailureCause.explain(.exited(3), peakMemoryKiB: 0, stageMemory: 0) == nil)
    }
}
