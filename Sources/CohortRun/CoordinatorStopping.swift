import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Stopping: a signal to this rank, every worker leaving, a dead rank.
extension Coordinator {
    /// This rank's own stop signal, waited for a moment: signals reach the
    /// ranks of a job in no fixed order. `fallback` when none comes.
    func awaitOwnStopSignal(fallback: Int32) -> Int32 {
        let waitStarted = clock()
        while clock() - waitStarted < Self.stopFollowsDrainWait {
            if let signal = stopSignal() { return signal }
            usleep(20_000)
        }
        return fallback
    }

    /// Stop dispatching, stop every running module, and finish once they report.
    func beginStop(_ signal: Int32) throws -> Bool {
        stoppedBy = signal
        stopStarted = clock()
        let dead = deadWorkers()
        if !dead.isEmpty {
            // Named at once, durably: mpirun kills this rank a moment later.
            try record(dead.map { .drained(rank: $0.id.rawValue, host: $0.host, reason: "the rank died (pid \($0.pid) is gone); mpirun ends the job",
                                           time: epochSeconds()) }, durable: true)
            for worker in dead { reporter.workerDied(worker) }
        }
        reporter.stopping(signal: StopSignals.name(signal))
        localRunner?.terminateAll()
        for rank in transport?.workerRanks ?? [] { try transport?.send(.terminate, to: rank) }
        return try perform(scheduler.stopRequested())
    }

    /// Worker ranks on this host whose process is gone: when one dies,
    /// mpirun ends the job with SIGTERM, and the stop should say why.
    func deadWorkers() -> [WorkerInfo] {
        let here = Machine.hostName
        return workers.values.filter { $0.pid > 0 && $0.host == here && kill(pid_t($0.pid), 0) != 0 && errno == ESRCH }
            .sorted { $0.id < $1.id }
    }

    func stopAllWorkers() {
        for rank in transport?.workerRanks ?? [] { try? transport?.send(.stop, to: rank) }
    }
}
