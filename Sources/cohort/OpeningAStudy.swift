import ArgumentParser
import CohortCore
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

extension Study {
    /// The study of `jobFile`, or exit 2 with its problems on stderr.
    static func opened(_ jobFile: String) throws -> Study {
        do {
            return try Study(jobFile: jobFile)
        } catch let error as JobFileError {
            writeLine(STDERR_FILENO, error.description)
            throw ExitCode(2)
        } catch {
            writeLine(STDERR_FILENO, "\(jobFile): \(error)")
            throw ExitCode(2)
        }
    }
}
