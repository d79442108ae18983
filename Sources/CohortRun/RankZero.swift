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

    func run() -> Int32 {
        let study: Study
        do {
            study = try Study(jobFile: options.jobFile)
        } catch let error as JobFileError {
            return refuse(error.description)
        } catch {
            return refuse("\(options.jobFile): \(error)")
        }
        let job = study.job
        let selection: Selection
        let forced: [String]
        do {
            selection = try Selection(only: options.only, subjects: options.subjects, graph: study.graph)
            forced = try forcedStages(of: study, selection: selection)
        } catch {
            return refuse("cohort: \(error)")
        }
        let factory = study.taskFactory(exported: options.exported)
        let problems = study.problemsBeforeRunning(createWorkdir: true)
        if !problems.isEmpty { return refuse(problems.joined(separator: "\n")) }
        for warning in study.untrackedScriptWarnings { writeLine(STDERR_FILENO, warning) }
        let definitions: Definitions
        do {
            definitions = try study.definitions()
        } catch {
            return refuse("cohort: \(error); nothing ran")
        }

        let held: HeldState
        do {
            held = try HeldState.take(study.state)
        } catch let busy as RunLock.Held {
            stopWorkers()
            writeLine(STDERR_FILENO, "cohort: \(study.state.path): \(busy)")
            return 3
        } catch {
            return refuse("cohort: \(error)")
        }
        defer { held.lock.release() }
        var history = held.history

        // --force is journaled (by the coordinator, once the run really
        // starts): the next plain run completes it if this one stops halfway.
        var force = forced.isEmpty ? nil : ForceRequest(stages: forced, only: options.only, subjects: options.subjects, id: options.forceID)
        if let request = force, let id = request.id, let earlier = history.forcesByID[id] {
            // A requeued job or a resubmission repeating its arguments: the
            // journal holds this request already, so complete it instead.
            guard earlier == request else {
                return refuse("cohort: --force-id \(id) names an earlier, different request (--force \(earlier.stages.joined(separator: ","))); give this one a new id")
            }
            writeLine(STDOUT_FILENO, "cohort: --force request \(id) is in the journal already: completing it, not forcing again")
            force = nil
        }
        if let force { history.apply(.forced(force, time: epochSeconds())) }
        let plan = study.plan(history: history, definitions: definitions)
        let reporter = PlainReporter()
        let outlook = RunOutlook(plan: plan, graph: study.graph, selection: selection)
        reporter.planned(outlook, history: history, journalPath: study.state.journal)
        let durations = history.medianDurations(for: job)
        var random = SystemRandomNumberGenerator()
        let coordinator = Coordinator(
            factory: factory, transport: transport, localRunner: runner, policy: options.policy,
            reporter: reporter, journal: held.journal, history: history, plan: plan, definitions: definitions,
            runID: Lineage.newRunID(using: &random), force: force, selection: selection, outlook: outlook,
            jobFile: options.jobFile, logger: logger,
            scheduling: .criticalPath(stageDurations: durations), walltime: walltime(stageDurations: durations))
        do {
            let summary = try coordinator.run()
            reporter.runFinished(summary)
            return summary.exitCode
        } catch let refused as RunRefused {
            writeLine(STDERR_FILENO, "cohort: \(refused)")
            return 2
        } catch let stateError as StateError {
            writeLine(STDERR_FILENO, "cohort: \(stateError); stopped (every success recorded before this is kept)")
            return 2
        } catch {
            logger.critical("\(error); ending the MPI job")
            MPIRuntime.abort(code: 2)
        }
    }

    /// `--force` stages in the job's order; each must exist and have a selected instance.
    private func forcedStages(of study: Study, selection: Selection) throws(RunRefused) -> [String] {
        var forced: Set<Int> = []
        for name in options.forcedStages {
            guard let index = study.job.stageIndex(named: name) else {
                throw RunRefused(description: "--force \(name): no such stage; stages are \(study.job.stages.map(\.name).joined(separator: ", "))")
            }
            forced.insert(index)
            let selected = study.graph.instances(ofStage: index).contains { selection.contains(InstanceID($0), in: study.graph) }
            if !selected {
                throw RunRefused(description: "--force \(name): no instance of it is selected (--only/--subjects); nothing would be forced")
            }
        }
        return study.job.stages.indices.filter(forced.contains).map { study.job.stages[$0].name }
    }

    /// Inside a Slurm allocation with a known end: what would not finish before it is not started.
    private func walltime(stageDurations: [Double?]) -> Walltime? {
        SlurmQuery.allocationEnd().map { end in
            let start = SlurmQuery.allocationStart()
            var lead = SlurmAllocation.stopLead(currentEnvironment())
            if let start, lead > 0, lead * 2 > end - start {
                writeLine(STDERR_FILENO, "cohort: warning: COHORT_STOP_LEAD=\(Int(lead)) s is more than half this job's time limit; ignored")
                lead = 0
            }
            return Walltime(end: end, stageDurations: stageDurations, start: start, lead: lead)
        }
    }

    private func refuse(_ message: String) -> Int32 {
        writeLine(STDERR_FILENO, message)
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

    /// Creates the state folder if needed and takes its lock (throws
    /// `RunLock.Held` while another run holds it).
    static func take(_ state: StateFolder) throws -> HeldState {
        try state.create()
        let owner = "host \(Machine.hostName), pid \(getpid()), since \(localTime(epochSeconds()))"
        let taken = try RunLock.acquire(path: state.lock, owner: owner)
        if let stale = taken.stale {
            writeLine(STDERR_FILENO, "cohort: warning: taking over the lock of a run that ended without releasing it (\(stale))")
        }
        do {
            let journal = try JournalFile(path: state.journal)
            return HeldState(lock: taken.lock, journal: journal, history: try journal.readHistory())
        } catch {
            taken.lock.release()
            throw error
        }
    }
}
