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
        abstract: "Run a job: under mpirun rank 0 schedules and the other ranks work.",
        discussion: """
            A rerun skips every instance an earlier run completed (the journal in .cohort/<study>/), \
            and reruns what changed, failed, was skipped or did not finish, with everything downstream.

            Exit codes: 0 all done; 1 some instance failed or was skipped; 2 invalid job file or \
            arguments (nothing ran); 3 another run holds the study's state; 130/143 stopped by \
            SIGINT/SIGTERM or too little walltime left (run again to carry on).
            """)

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Option(help: "CPUs per worker (default: the node's cores divided among its worker ranks).")
    var slots: Int?

    @Option(help: "Memory per worker, e.g. 16G (default: the node's memory divided among its worker ranks).")
    var memory: String?

    @Option(name: .customLong("force"), help: ArgumentHelp("Rerun this stage's instances and everything downstream (repeatable).", valueName: "stage"))
    var forcedStages: [String] = []

    @Option(name: .customLong("force-id"), help: ArgumentHelp("Name this --force request (default: $COHORT_FORCE_ID); a run given an id the journal already holds completes that request instead of forcing again. The Slurm wrappers set it, so requeued and resubmitted jobs force once.", valueName: "id"))
    var forceID: String?

    @Option(name: .customLong("only"), help: ArgumentHelp("Run only this stage, or one subject's or session's instance of it (repeatable; rerun a failure with the name the summary prints).", valueName: "stage[:subject[:session]]"))
    var only: [String] = []

    @Option(name: .customLong("subjects"), help: ArgumentHelp("Run only these subjects' instances (comma-separated).", valueName: "sub-01,sub-02"))
    var subjects: [String] = []

    @Option(name: .customLong("export"), help: ArgumentHelp("Pass a variable of this shell (VAR) or a value (VAR=VALUE) to every module on every host (repeatable).", valueName: "var"))
    var exports: [String] = []

    @Option(name: .customLong("label"), help: "Give every worker this label, for stages with `on: LABEL` (repeatable).")
    var labels: [String] = []

    @Option(name: .customLong("label-rank"), help: ArgumentHelp("Give one worker rank a label (repeatable).", valueName: "rank=label"))
    var rankLabels: [String] = []

    @Option(name: .customLong("label-host"), help: ArgumentHelp("Give the workers on a host a label (repeatable).", valueName: "host=label"))
    var hostLabels: [String] = []

    func validate() throws {
        if let slots, !(1...100_000).contains(slots) { throw ValidationError("--slots must be from 1 to 100000") }
        if let memory, Quantity.bytes(memory) == nil { throw ValidationError("--memory \(memory): not a size like 16G") }
        _ = try workerPolicy()
        _ = try exportedVariables()
        if forceID != nil && forcedStages.isEmpty {
            throw ValidationError("--force-id names a --force request: give --force STAGE too")
        }
        if let id = requestedForceID, let problem = Identifier.problem(with: id) {
            throw ValidationError("--force-id \(id): the id \(problem)")
        }
    }

    /// `--force-id`, else `COHORT_FORCE_ID` from the environment (empty means none).
    var requestedForceID: String? {
        let id = forceID ?? getenv("COHORT_FORCE_ID").map { String(cString: $0) }
        return id?.isEmpty == false ? id : nil
    }

    /// `--export` as variables: `VAR` takes this shell's value, `VAR=VALUE`
    /// its own. Resolved on rank 0, which sends the values with each order:
    /// worker ranks started over ssh need not have VAR (they skip it).
    func exportedVariables() throws -> [EnvironmentVariable] {
        try exports.compactMap { text in
            let name = String(text.prefix { $0 != "=" })
            if let problem = Identifier.variableNameProblem(with: name) { throw ValidationError("--export \(text): \(problem)") }
            if name.hasPrefix("COHORT_") { throw ValidationError("--export \(name): COHORT_ variables are set by Cohort itself") }
            if text.contains("=") { return EnvironmentVariable(name: name, value: String(text.dropFirst(name.count + 1))) }
            guard let value = getenv(name) else {
                if !Cohort.isRankZero { return nil }
                throw ValidationError("--export \(name): not set in this shell")
            }
            return EnvironmentVariable(name: name, value: String(cString: value))
        }
    }

    /// Sizes and labels for workers, from the options.
    func workerPolicy() throws -> WorkerPolicy {
        func label(_ text: String, _ option: String) throws -> String {
            if let problem = Identifier.problem(with: text) { throw ValidationError("\(option) \(text): the label \(problem)") }
            if text == WorkerPolicy.rankZeroLabel { throw ValidationError("\(option): \(text) is reserved for the scheduler's own process") }
            return text
        }
        func pair(_ text: String, _ option: String) throws -> (String, String) {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw ValidationError("\(option) \(text): expected WHO=LABEL")
            }
            return (String(text[..<equals]), try label(String(text[text.index(after: equals)...]), option))
        }
        var policy = WorkerPolicy(slots: slots, memory: memory.flatMap(Quantity.bytes))
        for text in labels { policy.labels.insert(try label(text, "--label")) }
        for text in rankLabels {
            let (who, name) = try pair(text, "--label-rank")
            guard let rank = Int(who), rank >= 0 else { throw ValidationError("--label-rank \(text): \(who) is not a rank number") }
            policy.labelsByRank[rank, default: []].insert(name)
        }
        for text in hostLabels {
            let (host, name) = try pair(text, "--label-host")
            policy.labelsByHost[host, default: []].insert(name)
        }
        return policy
    }

    func run() throws {
        let supervisor = executableFolder() + "/cohort-supervise"
        guard access(supervisor, X_OK) == 0 else {
            writeLine(STDERR_FILENO, "cohort: \(supervisor) is missing; build all products (swift build -c release)")
            throw ExitCode(2)
        }
        StopSignals.install()
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
                let transport = size > 1 ? MPISchedulerTransport(communicator: world, size: size) : nil
                code = SchedulerRank(command: self, transport: transport, runner: runner).run()
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
}

/// What rank 0 does: refuse what cannot run (touching nothing), take the
/// study's lock, read the journal, plan, run, summarise.
struct SchedulerRank {
    let command: Run
    let transport: MPISchedulerTransport?
    let runner: ModuleRunner

    func run() -> Int32 {
        let job: Job
        let graph: InstanceGraph
        let hash: String
        do {
            (job, hash) = try JobFileReader.loadWithHash(path: command.jobFile)
            graph = try InstanceGraph(job: job)
        } catch let error as JobFileError {
            return refuse(error.description)
        } catch {
            return refuse("\(command.jobFile): \(error)")
        }
        let selection: Selection
        do {
            selection = try Selection(only: command.only, subjects: command.subjects, graph: graph)
        } catch {
            return refuse("cohort: \(error)")
        }
        var forced: Set<Int> = []
        for name in command.forcedStages {
            guard let index = job.stageIndex(named: name) else {
                return refuse("cohort: --force \(name): no such stage; stages are \(job.stages.map(\.name).joined(separator: ", "))")
            }
            forced.insert(index)
            let selected = graph.instances(ofStage: index).contains { selection.contains(InstanceID($0), in: graph) }
            if !selected {
                return refuse("cohort: --force \(name): no instance of it is selected (--only/--subjects); nothing would be forced")
            }
        }
        let jobFolder = JobFileReader.folder(of: command.jobFile)
        let factory = TaskFactory(graph: graph, jobFolder: jobFolder, jobHash: hash,
                                  exported: (try? command.exportedVariables()) ?? [])
        let problems = Preflight.problems(job: job, jobFile: command.jobFile, factory: factory)
        if !problems.isEmpty { return refuse(problems.joined(separator: "\n")) }
        for warning in Preflight.untrackedScripts(job: job, jobFile: command.jobFile) { writeLine(STDERR_FILENO, warning) }
        let scriptDigests: [UInt64?]
        do {
            scriptDigests = try ModuleScripts.digests(job: job, jobFolder: jobFolder)
        } catch {
            return refuse("cohort: \(error); nothing ran")
        }

        let state = StateFolder(jobFolder: jobFolder, study: job.study)
        let lock: RunLock
        let journal: JournalFile
        var history: JournalHistory
        do {
            try state.create()
            let owner = "host \(Machine.hostName), pid \(getpid()), since \(timestamp())"
            let taken = try RunLock.acquire(path: state.lock, owner: owner)
            lock = taken.lock
            if let stale = taken.stale {
                writeLine(STDERR_FILENO, "cohort: warning: taking over the lock of a run that ended without releasing it (\(stale))")
            }
            journal = try JournalFile(path: state.journal)
            history = try journal.readHistory()
        } catch let held as RunLock.Held {
            stopWorkers()
            writeLine(STDERR_FILENO, "cohort: \(state.path): \(held)")
            return 3
        } catch {
            return refuse("cohort: \(error)")
        }
        defer { lock.release() }

        // --force is journaled (by the coordinator, once the run really
        // starts): the next plain run completes it if this one stops halfway.
        var force = forced.isEmpty ? nil : ForceRequest(
            stages: job.stages.indices.filter(forced.contains).map { job.stages[$0].name },
            only: command.only, subjects: command.subjects, id: command.requestedForceID)
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
        let definitions = Definitions(graph: graph, scriptDigests: scriptDigests,
                                      earlierScriptDigests: ModuleScripts.earlierDigests(job: job, jobFolder: jobFolder))
        let plan = ResumePlan(graph: graph, history: history, definitions: definitions)
        let reporter = PlainReporter()
        let outlook = RunOutlook(plan: plan, graph: graph, selection: selection)
        reporter.planned(outlook, history: history, journalPath: state.journal)
        let durations = history.medianDurations(for: job)
        let walltime = SlurmQuery.allocationEnd().map { end in
            let start = SlurmQuery.allocationStart()
            var lead = SlurmAllocation.stopLead(currentEnvironment())
            if let start, lead > 0, lead * 2 > end - start {
                writeLine(STDERR_FILENO, "cohort: warning: COHORT_STOP_LEAD=\(Int(lead)) s is more than half this job's time limit; ignored")
                lead = 0
            }
            return Walltime(end: end, stageDurations: durations, start: start, lead: lead)
        }
        var random = SystemRandomNumberGenerator()
        let coordinator = Coordinator(
            factory: factory, transport: transport, localRunner: runner,
            policy: (try? command.workerPolicy()) ?? WorkerPolicy(),
            reporter: reporter, journal: journal, history: history, plan: plan, definitions: definitions,
            runID: Lineage.newRunID(using: &random), force: force, selection: selection, outlook: outlook,
            jobFile: command.jobFile,
            scheduling: .criticalPath(stageDurations: durations), walltime: walltime)
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
            writeLine(STDERR_FILENO, "cohort: \(error)")
            MPIRuntime.abort(code: 2)
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

    private func timestamp() -> String { localTime(epochSeconds()) }
}

/// The folder of the running executable (`cohort-supervise` lives beside it).
func executableFolder() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return "." }
    let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
}
