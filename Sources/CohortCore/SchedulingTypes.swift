/// A place that runs instances: an MPI worker rank, or rank 0 itself.
public struct WorkerID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: WorkerID, b: WorkerID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "rank \(rawValue)" }
}

/// What a worker can hold at once, or what one instance needs.
public struct Capacity: Hashable, Sendable, CustomStringConvertible {
    public var cpus: Int
    /// Bytes.
    public var memory: Int64
    /// GPUs, counted here; which devices an instance holds is the
    /// scheduler's to choose (`Scheduler.devices(of:)`): they are not fungible.
    public var gpus: Int

    public init(cpus: Int, memory: Int64, gpus: Int = 0) {
        self.cpus = cpus
        self.memory = memory
        self.gpus = gpus
    }

    public func fits(_ demand: Capacity) -> Bool { demand.cpus <= cpus && demand.memory <= memory && demand.gpus <= gpus }

    public static func - (a: Capacity, b: Capacity) -> Capacity {
        Capacity(cpus: a.cpus - b.cpus, memory: a.memory - b.memory, gpus: a.gpus - b.gpus)
    }
    public static func + (a: Capacity, b: Capacity) -> Capacity {
        Capacity(cpus: a.cpus + b.cpus, memory: a.memory + b.memory, gpus: a.gpus + b.gpus)
    }

    public var description: String {
        "\(cpus) cpu\(cpus == 1 ? "" : "s"), \(Quantity.describe(bytes: memory)) memory" + (gpus == 0 ? "" : ", \(gpus) GPU\(gpus == 1 ? "" : "s")")
    }
}

extension Stage {
    /// What one instance of this stage occupies on its worker.
    public var demand: Capacity { Capacity(cpus: cpus, memory: memory, gpus: gpus) }
}

/// Where an instance is in its life.
public enum InstanceState: UInt8, Sendable {
    case waiting, ready, running, succeeded, failed, skipped
    /// Stopped by a signal while running; runs again next time.
    case interrupted
    /// Succeeded in an earlier run (the journal says so); not run again.
    case doneEarlier
    /// Outside this run's `--only`/`--subjects`: left alone.
    case unselected
    /// An item its generator no longer lists (DESIGN §8): not part of the study.
    case dropped

    public var isFinal: Bool {
        self == .succeeded || self == .failed || self == .skipped || self == .doneEarlier || self == .dropped
    }
}

/// What the scheduler asks its loop to carry out.
public enum SchedulerAction: Hashable, Sendable {
    /// Run the instance on the worker (the scheduler has reserved its capacity).
    case start(InstanceID, on: WorkerID)
    /// Queue the instance on the worker, to start there the moment `after`
    /// (running there, the room it takes) ends: a follow-on (see
    /// `Scheduler.followOnsBelow`). It counts as running from now on.
    case startAfter(InstanceID, on: WorkerID, after: InstanceID)
    /// Ask the worker to give the follow-on back if it has not started it:
    /// it has waited too long behind a slow attempt while room is free elsewhere.
    case recall(InstanceID, on: WorkerID)
    /// The instance will not run because `cause` failed upstream.
    case skip(InstanceID, because: InstanceID)
    /// The attempt failed and the instance goes back in line for attempt
    /// `attempt` of those its retries count (attempts lost with a leaving
    /// worker are not among them).
    case retry(InstanceID, attempt: Int)
    /// The worker gets no more work.
    case stopWorker(WorkerID)
    /// The worker gets no more work for the rest of the run, and why (a broken node).
    case drain(WorkerID, reason: String)
    /// The stage is not started for now: its typical duration exceeds the
    /// time left in the allocation (said once per stage, to tell the user).
    case holdStarted(stage: Int, typicalSeconds: Double, secondsLeft: Double)
    /// The watched generator listed what it found and looks again in that
    /// many seconds (DESIGN §8).
    case lookAgain(InstanceID, inSeconds: Double)
    /// The watched generator's last look succeeded: what waited for its
    /// watch's end can start. (Not said when its first run was its last.)
    case watchEnded(InstanceID)
    /// Nothing is running and nothing more will start.
    case finish
}

/// A stage that no worker can ever run: the run must not start (it would hang).
public struct UnplaceableStage: Error, Hashable, Sendable, CustomStringConvertible {
    public var stage: String
    public var needs: Capacity
    public var largest: Capacity
    /// The stage's `on:` label, if it has one.
    public var label: String?
    /// True when no worker carries the label at all.
    public var labelMissing = false
    /// Ready work that fits a worker was left unstarted: a fault of the scheduler's.
    public var unexplained = false
    /// Only drained workers could run it.
    public var drainedOnly = false
    /// A multi-node stage: the hosts it needs, and how many have a worker that fits.
    public var nodes: (needed: Int, hosts: Int)?

    public static func == (a: UnplaceableStage, b: UnplaceableStage) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    public var description: String {
        if drainedOnly {
            return "stage \"\(stage)\" can run only on workers that were drained (see above); fix them and run again"
        }
        if unexplained {
            return "stage \"\(stage)\" had ready instances that fit a worker, but none was started (a fault in Cohort: please report it with the journal)"
        }
        if let label, labelMissing {
            return "stage \"\(stage)\" runs on workers labelled \"\(label)\", but no worker has that label (give one with --label-rank N=\(label) or --label-host HOST=\(label))"
        }
        let which = label.map { "worker labelled \"\($0)\"" } ?? "worker"
        if let nodes {
            return "stage \"\(stage)\" needs \(nodes.needed) nodes (a \(which) with \(needs) on each of \(nodes.needed) hosts), but \(nodes.hosts == 1 ? "1 host has one" : "\(nodes.hosts) hosts have one"); run on more hosts or lower its nodes"
        }
        if needs.gpus > largest.gpus && label == "rank0" {
            return "stage \"\(stage)\" needs \(needs.gpus) GPU\(needs.gpus == 1 ? "" : "s") on rank 0, which has none (beside worker ranks it holds no GPU: drop its on: rank0; alone, give it --gpus)"
        }
        if needs.gpus > largest.gpus {
            let has = largest.gpus == 0 ? "no GPU" : "\(largest.gpus) GPU\(largest.gpus == 1 ? "" : "s")"
            return "stage \"\(stage)\" needs \(needs.gpus) GPU\(needs.gpus == 1 ? "" : "s") per instance, but the largest \(which) has \(has); give workers GPUs (--gpus, or run where Slurm or nvidia-smi finds them) or lower its gpus"
        }
        return "stage \"\(stage)\" needs \(needs) per instance, but the largest \(which) has \(largest); lower its cpus/memory or give workers more (--slots, --memory)"
    }
}

/// Per-stage counts, for progress and the summary.
public struct StageTally: Hashable, Sendable {
    public var total = 0
    public var waiting = 0
    public var ready = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var skipped = 0
    public var interrupted = 0
    public var doneEarlier = 0
    public var unselected = 0
    public var dropped = 0

    public init() {}

    mutating func move(from old: InstanceState, to new: InstanceState) {
        self[old] -= 1
        self[new] += 1
    }

    subscript(state: InstanceState) -> Int {
        get {
            switch state {
            case .waiting: waiting
            case .ready: ready
            case .running: running
            case .succeeded: succeeded
            case .failed: failed
            case .skipped: skipped
            case .interrupted: interrupted
            case .doneEarlier: doneEarlier
            case .unselected: unselected
            case .dropped: dropped
            }
        }
        set {
            switch state {
            case .waiting: waiting = newValue
            case .ready: ready = newValue
            case .running: running = newValue
            case .succeeded: succeeded = newValue
            case .failed: failed = newValue
            case .skipped: skipped = newValue
            case .interrupted: interrupted = newValue
            case .doneEarlier: doneEarlier = newValue
            case .unselected: unselected = newValue
            case .dropped: dropped = newValue
            }
        }
    }
}
