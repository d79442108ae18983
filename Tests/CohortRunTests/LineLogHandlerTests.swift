@testable import CohortRun
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The diagnostics line format: place, level, message, other metadata sorted.
@Suite struct LineLogHandlerTests {
    @Test func aLineNamesRankAndHostThenTheRestSorted() {
        let line = LineLogHandler.line(.error, "cannot send", metadata: ["rank": "3", "host": "node07", "to": "0", "bytes": "12"])
        #expect(line == "cohort: rank 3 on node07: error: cannot send bytes=12 to=0\n")
        #expect(LineLogHandler.line(.info, "hello", metadata: [:]) == "cohort: info: hello\n")
    }

    @Test func eventsBelowTheLevelAreDropped() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        var logger = Logger(label: "test") { _ in LineLogHandler(logLevel: .notice, fd: fds[1]) }
        logger[metadataKey: "rank"] = "1"
        logger.info("not shown")
        logger.warning("shown", metadata: ["why": "test"])
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = read(fds[0], &buffer, buffer.count)
        close(fds[0])
        #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "cohort: rank 1: warning: shown why=test\n")
    }
}
