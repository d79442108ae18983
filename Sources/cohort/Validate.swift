import ArgumentParser
import CohortCore
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort validate job.yml`: every problem in the job file, one per line,
/// and every check against the file system that `cohort run` makes before
/// it starts (module scripts, the workdir), without creating anything.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a job file, and the module scripts and workdir it names, printing every problem found (exit 2 if any).")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    func run() throws {
        do {
            let job = try JobFileReader.load(path: jobFile)
            let graph = try InstanceGraph(job: job)
            let factory = TaskFactory(graph: graph, jobFolder: JobFileReader.folder(of: jobFile))
            let problems = Preflight.problems(job: job, jobFile: jobFile, factory: factory, createWorkdir: false)
            guard problems.isEmpty else {
                writeLine(STDERR_FILENO, problems.joined(separator: "\n"))
                throw ExitCode(2)
            }
            for warning in Preflight.untrackedScripts(job: job, jobFile: jobFile) { writeLine(STDERR_FILENO, warning) }
            writeLine(STDOUT_FILENO, "\(jobFile): valid: study \(job.study), \(job.subjects.count) subjects, \(graph.sessionCount) sessions, \(job.stages.count) stages, \(graph.instanceCount) instances")
        } catch let exit as ExitCode {
            throw exit
        } catch let error as JobFileError {
            writeLine(STDERR_FILENO, error.description)
            throw ExitCode(2)
        } catch {
            writeLine(STDERR_FILENO, "\(jobFile): \(error)")
            throw ExitCode(2)
        }
    }
}
