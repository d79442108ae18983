import CohortCore
import CohortMPI
#if canImport(Glibc)
import Glibc
#endif

/// `cohort run` on every rank of the MPI job: rank 0 schedules (`RankZero`),
/// every other rank works (`WorkerLoop`). Returns the exit code (DESIGN §2).
public enum ClusterRun {
    public static func main(_ options: RunOptions) -> Int32 {
        let supervisor = executableFolder() + "/cohort-supervise"
        guard access(supervisor, X_OK) == 0 else {
            writeLine(STDERR_FILENO, "cohort: \(supervisor) is missing; build all products (swift build -c release)")
            return 2
        }
        StopSignals.install()
        do {
            try MPIRuntime.initialize()
        } catch {
            writeLine(STDERR_FILENO, "cohort: cannot start MPI: \(error)")
            return 2
        }
        let world = Communicator.world
        let code: Int32
        do {
            let rank = try world.rank()
            let size = try world.size()
            let runner = ModuleRunner(supervisorPath: supervisor, rank: Int(rank.rawValue))
            if rank == .scheduler {
                let transport = size > 1 ? MPISchedulerTransport(communicator: world, size: size) : nil
                code = RankZero(options: options, transport: transport, runner: runner).run()
            } else {
                try WorkerLoop(communicator: world, runner: runner).run()
                code = 0
            }
        } catch {
            writeLine(STDERR_FILENO, "cohort: \(error)")
            MPIRuntime.abort(code: 2)
        }
        try? MPIRuntime.finalize()
        return code
    }

    /// The folder of the running executable (`cohort-supervise` lives beside it).
    static func executableFolder() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "." }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }
}

/// One line to `fd` in a single write.
public func writeLine(_ fd: Int32, _ text: String) {
    writeAll(fd, text + "\n")
}
