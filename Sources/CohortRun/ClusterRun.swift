import CohortCore
import CohortMPI
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `cohort run` on every rank of the MPI job: rank 0 schedules (`RankZero`),
/// every other rank works (`WorkerLoop`). Returns the exit code (DESIGN §2).
/// Diagnostics go to `logger`, with this rank and host in its metadata.
public enum ClusterRun {
    public static func main(_ options: RunOptions, logger: Logger = .silent) -> Int32 {
        var logger = logger
        logger[metadataKey: "host"] = "\(Machine.hostName)"
        let supervisor = executableFolder() + "/cohort-supervise"
        guard access(supervisor, X_OK) == 0 else {
            PlainReporter().problem("cohort: \(supervisor) is missing; build all products (swift build -c release)")
            return 2
        }
        StopSignals.install()
        let launched = MPIRuntime.isLaunched(environment: currentEnvironment())
        if launched {
            do {
                try MPIRuntime.initialize()
            } catch {
                PlainReporter().problem("cohort: cannot start MPI: \(error)")
                return 2
            }
        }
        let world = Communicator.world
        let code: Int32
        do {
            // Without a launcher, this process is rank 0 of 1 and MPI is never started.
            let rank = launched ? try world.rank() : .scheduler
            let size = launched ? try world.size() : 1
            logger[metadataKey: "rank"] = "\(rank.rawValue)"
            logger.debug("started", metadata: ["ranks": "\(size)", "pid": "\(getpid())"])
            let runner = ModuleRunner(supervisorPath: supervisor, rank: Int(rank.rawValue))
            runner.runsNothing = options.noopModules
            if rank == .scheduler {
                let transport = size > 1 ? MPISchedulerTransport(communicator: world, size: size) : nil
                code = RankZero(options: options, transport: transport, runner: runner, logger: logger).run()
                transport?.finishSending()
            } else {
                try WorkerLoop(communicator: world, runner: runner, logger: logger).run()
                code = 0
            }
        } catch {
            // Said with this rank's number and host before MPI ends every rank.
            logger.critical("\(error); ending the MPI job")
            MPIRuntime.abort(code: 2)
        }
        if launched { try? MPIRuntime.finalize() }
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
