import CohortCore
@testable import CohortRun
import Testing

/// The worker's side of the launcher's pipe protocol, without a process.
@Suite struct LauncherProtocolTests {
    @Test func aRunFrameIsLengthKindAndNulTerminatedFields() {
        let frame = LauncherProtocol.runFrame(id: 7, graceSeconds: 5, directory: "/d", logFolder: "/l/1", folderToMake: "/o/s",
                                              arguments: ["/bin/sh", "-c", "echo hi"], environment: [EnvironmentVariable(name: "A", value: "b=c")])
        let payload = Array(frame.dropFirst(4))
        #expect(frame.prefix(4).elementsEqual([UInt8(payload.count), 0, 0, 0]))
        let fields = payload.dropFirst().split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        #expect(payload.first == UInt8(ascii: "R"))
        #expect(fields == ["7", "5", "/d", "/l/1", "/o/s", "3", "/bin/sh", "-c", "echo hi", "A=b=c", ""])
    }

    /// A NUL inside a value would shift every field after it: it is cut there.
    @Test func aNulInsideAFieldCannotShiftTheOthers() {
        let frame = LauncherProtocol.runFrame(id: 1, graceSeconds: 5, directory: "/d", logFolder: "/l",
                                              arguments: ["echo", "a\u{0}b"], environment: [EnvironmentVariable(name: "X", value: "1\u{0}2"),
                                                                            EnvironmentVariable(name: "Y\u{0}Z", value: "3")])
        let fields = frame.dropFirst(5).split(separator: 0, omittingEmptySubsequences: false)
        #expect(fields.map { String(decoding: $0, as: UTF8.self) } == ["1", "5", "/d", "/l", "", "2", "echo", "a", "X=1", "Y", ""])
    }

    @Test func reportsAreParsedAndAnythingElseIsNot() {
        #expect(LauncherProtocol.report(parsing: "12 exit 0 864 0")
                == .init(id: 12, outcome: .succeeded, peakMemoryKiB: 864, logError: 0))
        #expect(LauncherProtocol.report(parsing: "3 exit 127 -1 0")
                == .init(id: 3, outcome: .exited(127), peakMemoryKiB: nil, logError: 0))
        #expect(LauncherProtocol.report(parsing: "4 signal 9 2048 28")
                == .init(id: 4, outcome: .signaled(9), peakMemoryKiB: 2048, logError: 28))
        #expect(LauncherProtocol.report(parsing: "5 nostart 11")
                == .init(id: 5, outcome: .couldNotStart("cannot start its supervisor: Resource temporarily unavailable"),
                         peakMemoryKiB: nil, logError: 0))
        #expect(LauncherProtocol.report(parsing: "6 nofolder 13")
                == .init(id: 6, outcome: .couldNotStart("cannot create its folder: Permission denied"),
                         peakMemoryKiB: nil, logError: 0, folderError: 13))
        for broken in ["", "4 signal 9", "x exit 0 1 0", "4 stopped 9 1 0", "4 exit 0 1 0 extra", "4 nostart", "4 nostart x",
                       "4 gone 2"] {
            #expect(LauncherProtocol.report(parsing: Substring(broken)) == nil, "\(broken)")
        }
    }
}
