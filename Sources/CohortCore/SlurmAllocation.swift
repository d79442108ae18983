/// What Slurm's environment says about the allocation a rank runs in
/// (read by each rank from its own environment: values differ per node).
public enum SlurmAllocation {
    /// Whether this process runs inside a Slurm job.
    public static func isInside(_ environment: [String: String]) -> Bool {
        environment["SLURM_JOB_ID"] != nil
    }

    /// CPUs and memory (bytes) the job has on this node: SLURM_CPUS_ON_NODE,
    /// and SLURM_MEM_PER_NODE, or SLURM_MEM_PER_CPU times the cpus (both in
    /// MiB). Nil outside Slurm; memory nil when the job did not ask for any.
    public static func nodeCapacity(_ environment: [String: String]) -> (cpus: Int, memory: Int64?)? {
        guard isInside(environment), let cpusText = environment["SLURM_CPUS_ON_NODE"],
              let cpus = Quantity.integer(cpusText, in: 1...1_000_000)
        else { return nil }
        func mebibytes(_ key: String) -> Int64? {
            guard let text = environment[key], let value = Quantity.integer(text, in: 1...Int(Int32.max)) else { return nil }
            return Int64(value) << 20
        }
        if let perNode = mebibytes("SLURM_MEM_PER_NODE") { return (cpus, perNode) }
        if let perCPU = mebibytes("SLURM_MEM_PER_CPU") { return (cpus, perCPU * Int64(cpus)) }
        return (cpus, nil)
    }

    /// When the allocation ends, in seconds since the epoch (SLURM_JOB_END_TIME).
    public static func endTime(_ environment: [String: String]) -> Double? {
        epochSeconds("SLURM_JOB_END_TIME", environment)
    }

    /// When the allocation started (SLURM_JOB_START_TIME).
    public static func startTime(_ environment: [String: String]) -> Double? {
        epochSeconds("SLURM_JOB_START_TIME", environment)
    }

    /// Seconds before the end when the stop signal comes: COHORT_STOP_LEAD,
    /// which the wrappers set from their `--signal=B:USR1@SECONDS`; 0 when unset.
    public static func stopLead(_ environment: [String: String]) -> Double {
        environment["COHORT_STOP_LEAD"].flatMap { Quantity.integer($0, in: 0...86_400) }.map(Double.init) ?? 0
    }

    private static func epochSeconds(_ key: String, _ environment: [String: String]) -> Double? {
        guard isInside(environment), let text = environment[key],
              let value = Quantity.integer(text, in: 1...Int(Int32.max) * 4)
        else { return nil }
        return Double(value)
    }
}
