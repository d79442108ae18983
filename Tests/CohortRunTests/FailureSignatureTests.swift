@testable import CohortRun
import Testing

/// Which failures read as one group in the summary and in `cohort status`.
@Suite struct FailureSignatureTests {
    @Test func failuresThatDifferOnlyInTheirPathsAreAlike() {
        let one = failureSignature(stage: "a", cause: "cannot create folder /data/out/a/s001: Operation not permitted", lastLine: "")
        let other = failureSignature(stage: "a", cause: "cannot create folder /data/out/a/s002: Operation not permitted", lastLine: "")
        #expect(one == other)
        #expect(failureSignature(stage: "a", cause: "exit status 1", lastLine: "error in /d/s1/x.txt")
                == failureSignature(stage: "a", cause: "exit status 1", lastLine: "error in /d/s2/x.txt"))
    }

    @Test func aDifferentReasonOrStageIsNot() {
        let denied = failureSignature(stage: "a", cause: "cannot create folder /o/a/s1: Permission denied", lastLine: "")
        #expect(denied != failureSignature(stage: "a", cause: "cannot create folder /o/a/s1: No space left on device", lastLine: ""))
        #expect(denied != failureSignature(stage: "b", cause: "cannot create folder /o/b/s1: Permission denied", lastLine: ""))
    }
}
