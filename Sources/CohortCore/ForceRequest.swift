/// `--force STAGE` as the journal keeps it: which stages were forced, and
/// within which `--only`/`--subjects` selection. Journaled before anything
/// is dispatched, it makes every earlier success it covers out of date, so
/// a forced run that is stopped halfway (signal, walltime, kill -9, a lost
/// rank) is completed by the next plain run: what was already redone after
/// the request is not redone again.
///
/// Matched by names, not instance numbers: the job file may change between
/// the request and the run that completes it.
///
/// A request may carry an `id` (`--force-id`, `COHORT_FORCE_ID`): a run
/// given an id the journal already holds completes that request instead of
/// forcing again from scratch. The Slurm wrappers set it, so a requeued job
/// or a resubmission chain repeating its `--force` arguments forces once.
public struct ForceRequest: Equatable, Sendable {
    public var stages: [String]
    /// `--only` patterns as given (`stage[:subject[:session]]`).
    public var only: [String]
    /// `--subjects` as given.
    public var subjects: [String]
    /// Names the request across the runs that repeat it; nil: each run's `--force` is new.
    public var id: String?

    public init(stages: [String], only: [String] = [], subjects: [String] = [], id: String? = nil) {
        self.stages = stages
        self.id = id
        self.only = only.flatMap { $0.split(separator: ",").map(String.init) }
        self.subjects = subjects.flatMap { $0.split(separator: ",").map(String.init) }
    }

    /// Whether the instance called `name` (`stage:subject:session`) is forced.
    public func covers(_ name: String) -> Bool {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard let stage = parts.first, stages.contains(where: { $0 == stage }) else { return false }
        if !subjects.isEmpty {
            guard parts.count > 1, subjects.contains(where: { $0 == parts[1] }) else { return false }
        }
        guard !only.isEmpty else { return true }
        return only.contains { pattern in
            let wanted = pattern.split(separator: ":", omittingEmptySubsequences: false)
            for (index, part) in wanted.enumerated() where index >= parts.count || parts[index] != part {
                return false
            }
            return true
        }
    }
}
