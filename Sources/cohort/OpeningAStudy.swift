import ArgumentParser
import CohortCore
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

extension Study {
    /// The study of `jobFile`, or exit 2 with its problems on stderr
    /// (`recordedTreeIfUnreadable`: see `Study.init`).
    static func opened(_ jobFile: String, recordedTreeIfUnreadable: Bool = false) throws -> Study {
        do {
            return try Study(jobFile: jobFile, recordedTreeIfUnreadable: recordedTreeIfUnreadable)
        } catch let error as JobFileError {
            writeLine(STDERR_FILENO, error.description)
            throw ExitCode(2)
        } catch {
            writeLine(STDERR_FILENO, "\(jobFile): \(error)")
            throw ExitCode(2)
        }
    }
}
