public import CohortMPI
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// A worker rank: says hello, runs what rank 0 sends, reports each end,
/// and leaves when told to stop and its modules are done.
public struct WorkerLoop {
    let communicator: Communicator
    let runner: ModuleRunner

    public init(communicator: Communicator, runner: ModuleRunner) {
        self.communicator = communicator
        self.runner = runner
    }

    public func run() throws {
        let offer = Machine.offer
        let hello = WorkerHello(host: Machine.hostName, pid: Int(getpid()),
                                machineCores: offer.cores, machineMemory: offer.memory)
        try communicator.send(WorkerMessage.hello(hello).encoded(), to: .scheduler)
        var stopping = false
        var terminating = false
        /// A second signal: modules are killed without their grace period.
        var hurried = false
        var backoff = IdleBackoff()
        StopSignals.install()
        while true {
            var progressed = false
            // A signal to this rank (mpirun forwards them): stop its modules,
            // report them, and wait for rank 0 to say stop.
            if !terminating, let signal = StopSignals.pending {
                // Alone (its node is going down) this rank drains; in a whole
                // job's stop, rank 0 is stopping anyway and ignores this.
                terminating = true
                try communicator.send(WorkerMessage.draining("received \(StopSignals.name(signal))").encoded(), to: .scheduler)
                runner.terminateAll()
            }
            if !hurried, StopSignals.count > 1 {
                hurried = true
                runner.killAllNow()
            }
            while let envelope = try communicator.pendingMessage() {
                progressed = true
                switch try SchedulerMessage(decoding: try communicator.receive(envelope)) {
                case .run(let order):
                    if let failed = runner.start(order) { try send(failed) }
                    if terminating { runner.terminateAll() }
                case .stop:
                    stopping = true
                case .terminate:
                    terminating = true
                    runner.terminateAll()
                }
            }
            for finished in runner.reapFinished() {
                progressed = true
                try send(finished)
            }
            if stopping && runner.runningCount == 0 { return }
            if progressed { backoff.reset() } else { backoff.pause() }
        }
    }

    private func send(_ report: TaskReport) throws {
        try communicator.send(WorkerMessage.finished(report).encoded(), to: .scheduler)
    }
}
