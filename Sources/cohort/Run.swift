import ArgumentParser
import CohortCore
import CohortMPI
import CohortRun
#if canImport(Glibc)
import Glibc
#endif

/// `cohort run job.yml`: rank 0 schedules, the other ranks work.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a job: under mpirun rank 0 schedules and the other ranks work.")

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Option(help: "CPUs per worker (default: the node's cores divided among its worker ranks).")
    var slots: Int?

    @Option(help: "Memory per worker, e.g. 16G (default: the node's memory divided among its worker ranks).")
    var memory: String?

    func validate() throws {
        if let slots, !(1...100_000).contains(slots) { throw ValidationError("--slots must be from 1 to 100000") }
        if let memory, Quantity.bytes(memory) == nil { throw ValidationError("--memory \(memory): not a size like 16G") }
    }

    func run() throws {
        let supervisor = executableFolder() + "/cohort-supervise"
        guard access(supervisor, X_OK) == 0 else {
            writeLine(STDERR_FILENO, "cohort: \(supervisor) is missing; build all products (swift build -c release)")
            throw ExitCode(2)
        }
        do {
            try MPIRuntime.initialize()
        } catch {
            writeLine(STDERR_FILENO, "cohort: cannot start MPI: \(error)")
            throw ExitCode(2)
        }
        let world = Communicator.world
        let code: Int32
        do {
            let rank = try world.rank()
            let size = try world.size()
            let runner = ModuleRunner(supervisorPath: supervisor, rank: Int(rank.rawValue))
            if rank == .scheduler {
                code = runScheduler(size: size, world: world, runner: runner)
            } else {
                try WorkerLoop(communicator: world, runner: runner).run()
                code = 0
            }
        } catch {
            writeLine(STDERR_FILENO, "cohort: \(error)")
            MPIRuntime.abort(code: 2)
        }
        try? MPIRuntime.finalize()
        throw ExitCode(code)
    }

    private func runScheduler(size: Int, world: Communicator, runner: ModuleRunner) -> Int32 {
        let transport = size > 1 ? MPISchedulerTransport(communicator: world, size: size) : nil
        func refuse(_ message: String) -> Int32 {
            writeLine(STDERR_FILENO, message)
            for rank in transport?.workerRanks ?? [] { try? transport?.send(.stop, to: rank) }
            return 2
        }
        let job: Job
        let graph: InstanceGraph
        do {
            job = try JobFileReader.load(path: jobFile)
            graph = try InstanceGraph(job: job)
        } catch let error as JobFileError {
            return refuse(error.description)
        } catch {
            return refuse("\(jobFile): \(error)")
        }
        let factory = TaskFactory(graph: graph, jobFolder: JobFileReader.folder(of: jobFile))
        let reporter = PlainReporter()
        let coordinator = Coordinator(
            factory: factory, transport: transport, localRunner: transport == nil ? runner : nil,
            policy: CapacityPolicy(slots: slots, memory: memory.flatMap(Quantity.bytes)), reporter: reporter)
        do {
            let summary = try coordinator.run()
            reporter.runFinished(summary)
            return summary.exitCode
        } catch let refused as RunRefused {
            writeLine(STDERR_FILENO, "cohort: \(refused)")
            return 2
        } catch {
            writeLine(STDERR_FILENO, "cohort: \(error)")
            MPIRuntime.abort(code: 2)
        }
    }
}

/// The folder of the running executable (`cohort-supervise` lives beside it).
func executableFolder() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return "." }
    let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
}
