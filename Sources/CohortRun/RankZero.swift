import CohortCore
import CohortMPI
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// What rank 0 does in `cohort run`: refuse what cannot run (touching
/// nothing), take the study's lock, read the journal, plan, run, summarise.
struct RankZero {
    let options: RunOptions
    let transport: MPISchedulerTransport?
    let runner: ModuleRunner
    let logger: Logger

    /// Everything the user reads: refusals, warnings, progress, the summary.
    let reporter: PlainReporter

    init(options: RunOptions, transport: MPISchedulerTransport?, runner: ModuleRunner, logger: Logger) {
        self.options = options
        self.transport = transport
        self.runner = runner
        self.logger = logger
        reporter = PlainReporter(mode: options.progress, interval: options.progressInterval)
        reporter.watchesEndWhenIdle = options.noWatch
    }

    func run() -> Int32 {
        var study: Study
        do {
            study = try Study(jobFile: options.jobFile)
            // Successes of modules that ran nothing must never count as a real run's.
            if options.noopModules { study.state = StateFolder(jobFolder: study.jobFolder, study: study.job.study + ".noop-modules") }
        } catch let error as JobFileError {
            return refuse(error.description)
        } catch {
            return refuse("\(options.jobFile): \(error)")
        }
        let preparation: RunPreparation
        do {
            preparation = try study.prepare(options, createWorkdir: true)
        } catch {
            return refuse(error.description)
        }
        for warning in preparation.warnings { reporter.problem(warning) }

        let held: HeldState
        do {
            held = try HeldState.take(study.state, warn: reporter.problem)
        } catch let busy as RunLock.Held {
            stopWorkers()
            reporter.problem("cohort: \(study.state.path): \(busy)")
            return 3
        } catch {
            return refuse("cohort: \(error)")
        }
        defer { held.lock.release() }
        // --force is journaled (by the coordinator, once the run really
        // starts): the next plain run completes it if this one stops halfway.
        // The items generators listed in earlier runs: instances from the start.
        study.listItems(from: held.history)
        let intent: RunIntent
        do {
            intent = try study.intent(of: preparation, options, history: held.history)
        } catch {
            return refuse(error.description)
        }
        for note in intent.notes { reporter.note(note) }
        let (history, plan, outlook) = (intent.history, intent.plan, intent.outlook)
        let durations = history.medianDurations(for: study.job)
        reporter.planned(outlook, history: history, journalPath: study.state.journal, typicalDurations: durations,
                         stageCpus: study.job.stages.map(\.cpus))
        var random = SystemRandomNumberGenerator()
        let coordinator = Coordinator(
            factory: study.taskFactory(exported: options.exported), transport: transport, localRunner: runner,
            policy: options.policy, reporter: reporter, journal: held.journal, history: history, plan: plan,
            definitions: intent.definitions, runID: Lineage.newRunID(using: &random), force: intent.force,
            treeChange: intent.treeChange,
            selection: preparation.selection, outlook: outlook,
            jobFile: options.jobFile, selectionWords: (options.only, options.subjects), logger: logger,
            scheduling: .subjectsFirst(stageDurations: durations), walltime: walltime(stageDurations: durations),
            endWatchesWhenIdle: options.noWatch)
        do {
            let summary = try coordinator.run()
            reporter.runFinished(summary)
            // Not after a stop by a signal: the time left (a walltime warning) is not ours to spend.
            if summary.exitCode == 0 || summary.exitCode == 1 { held.refreshSnapshot() }
            return summary.exitCode
        } catch let refused as RunRefused {
            reporter.problem("cohort: \(refused)")
            return 2
        } catch let stateError as StateError {
            reporter.problem("cohort: \(stateError); stopped (every success recorded before this is kept)")
            return 2
        } catch {
            logger.critical("\(error); ending the MPI job")
            MPIRuntime.abort(code: 2)
        }
    }

    /// Inside a Slurm allocation with a known end: what would not finish before it is not started.
    private func walltime(stageDurations: [Double?]) -> Walltime? {
        SlurmQuery.allocationEnd().map { end in
            let start = SlurmQuery.allocationStart()
            var lead = SlurmAllocation.stopLead(currentEnvironment())
            if let start, lead > 0, lead * 2 > end - start {
                reporter.problem("cohort: warning: COHORT_STOP_LEAD=\(Int(lead)) s is more than half this job's time limit; ignored")
                lead = 0
            }
            return Walltime(end: end, stageDurations: stageDurations, start: start, lead: lead)
        }
    }

    private func refuse(_ message: String) -> Int32 {
        reporter.problem(message)
        stopWorkers()
        return 2
    }

    private func stopWorkers() {
        for rank in transport?.workerRanks ?? [] { try? transport?.send(.stop, to: rank) }
    }
}

/// A study's state while a run holds it: the lock, the journal open for
/// appending, and the history read under the lock.
struct HeldState {
    let lock: RunLock
    let journal: JournalFile
    let history: JournalHistory
    let state: StateFolder

    /// A snapshot of the whole journal as the run leaves it, so that the
    /// next `status` or run reads it quickly (best effort).
    /// Only when it saves readers real work: a no-op rerun of a large study
    /// does not rewrite its snapshot for two records.
    func refreshSnapshot() {
        guard journal.unsnapshotted >= JournalReading.worthSnapshotting else { return }
        if let read = JournalReading.read(journal: state.journal, snapshot: state.snapshot) {
            JournalReading.writeSnapshot(read, to: state.snapshot)
        }
    }

    /// Creates the state folder if needed and takes its lock (throws
    /// `RunLock.Held` while another run holds it).
    static func take(_ state: StateFolder, warn: (String) -> Void) throws -> HeldState {
        try state.create()
        let owner = "host \(Machine.hostName), pid \(getpid()), since \(localTime(epochSeconds()))"
        let taken = try RunLock.acquire(path: state.lock, owner: owner)
        if let stale = taken.stale {
            warn("cohort: warning: taking over the lock of a run that ended without releasing it (\(stale))")
        }
        do {
            JournalReading.removeUnfinishedSnapshots(in: state.path)
            let journal = try JournalFile(path: state.journal)
            return HeldState(lock: taken.lock, journal: journal, history: try journal.readHistory(snapshot: state.snapshot),
                             state: state)
        } catch {
            taken.lock.release()
            throw error
        }
    }
}
