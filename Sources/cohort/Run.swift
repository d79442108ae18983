import ArgumentParser
import CohortCore
import CohortRun
import Logging
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

    // Unconditional: `--gpus -1` (CUDA's "no device") reaches the check below, which says what is wrong.
    @Option(parsing: .unconditional, help: ArgumentHelp("Each host's GPUs: N (devices 0 to N-1) or a list such as 0,2,3 (one device: 1,), shared out among the host's worker ranks (default: from Slurm or CUDA_VISIBLE_DEVICES, else nvidia-smi -L, else none).", valueName: "N|list"))
    var gpus: String?

    @Option(name: .customLong("force"), help: ArgumentHelp("Rerun this stage's instances and everything downstream (repeatable).", valueName: "stage"))
    var forcedStages: [String] = []

    @Option(name: .customLong("force-id"), help: ArgumentHelp("Name this --force request (default: $COHORT_FORCE_ID); a run given an id the journal already holds completes that request instead of forcing again. The Slurm wrappers set it, so requeued and resubmitted jobs force once.", valueName: "id"))
    var forceID: String?

    @Option(name: .customLong("only"), help: ArgumentHelp("Run only this stage, or one subject's, session's or item's instance of it (repeatable; rerun a failure with the name the summary prints).", valueName: "stage[:subject[:session[:item]]]"))
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

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Diagnostics on stderr from every rank, each line naming its rank and host: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = Logger.Level.warning.rawValue

    @Option(help: ArgumentHelp("How progress is shown: auto (a redrawn block on a terminal, periodic otherwise), block, periodic (a line per failure and a progress line every --progress-interval seconds), lines (also a line per finished instance).", valueName: "mode"))
    var progress = ProgressMode.auto.rawValue

    @Option(name: .customLong("progress-interval"), help: ArgumentHelp("Seconds between progress lines when not on a terminal.", valueName: "seconds"))
    var progressInterval: Double = 30

    @Flag(name: .customLong("no-watch"), help: "End the watch of stages with `watch:` once nothing else is left to do (one last look each), instead of waiting for their `until:` files.")
    var noWatch = false

    @Flag(name: .customLong("noop-modules"), help: .hidden)
    var noopModules = false

    func validate() throws {
        if ProgressMode(rawValue: progress) == nil {
            throw ValidationError("--progress \(progress): not one of \(ProgressMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !(progressInterval > 0) { throw ValidationError("--progress-interval \(progressInterval): give seconds above 0") }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level \(logLevel): not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
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
        if let gpus {
            guard let devices = GPUDiscovery.option(gpus) else {
                let names = gpus.split(separator: ",").compactMap { GPUDiscovery.deviceName(String($0)) }
                if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                    throw ValidationError("--gpus \(gpus): device \(twice) is named twice (each device can be held by one instance at a time)")
                }
                throw ValidationError("--gpus \(gpus): give a number of GPUs (0 to 64) or device names like 0,2,3 (one device: 1,)")
            }
            policy.gpus = devices
        }
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
        var options = RunOptions(
            jobFile: jobFile, policy: (try? workerPolicy()) ?? WorkerPolicy(), forcedStages: forcedStages,
            forceID: requestedForceID, only: only, subjects: subjects, exported: (try? exportedVariables()) ?? [])
        options.progress = ProgressMode(rawValue: progress) ?? .auto
        options.progressInterval = progressInterval
        options.noopModules = noopModules
        options.noWatch = noWatch
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        let logger = Logger(label: "cohort") { _ in LineLogHandler(logLevel: level) }
        throw ExitCode(ClusterRun.main(options, logger: logger))
    }
}
