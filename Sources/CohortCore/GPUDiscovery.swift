/// Which GPUs a worker's node offers (DESIGN §7), from what the node says:
/// `--gpus`, else Slurm, else `nvidia-smi -L`, else none. Names are what
/// `CUDA_VISIBLE_DEVICES` takes on that node.
public enum GPUDiscovery {
    /// `--gpus N` (devices `0` … `N-1`) or `--gpus 0,2,3` (one device
    /// alone: `--gpus 1,`); nil if neither.
    public static func option(_ text: String) -> [String]? {
        var trimmed = text.trimmingSpaces()
        if !trimmed.isEmpty, trimmed.allSatisfy(\.isNumber) {
            return Quantity.integer(trimmed, in: 0...64).map { (0..<$0).map(String.init) }
        }
        if trimmed.hasSuffix(","), !trimmed.dropLast().contains(",") { trimmed.removeLast() }
        let names = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        guard !names.isEmpty, names.count <= 64, Set(names).count == names.count,
              names.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ":" } })
        else { return nil }
        return names
    }

    /// The node's GPUs from its environment. Inside a Slurm allocation,
    /// `CUDA_VISIBLE_DEVICES` (set by Slurm's gres plugin to the names CUDA
    /// accepts inside the job's device cgroup), else `SLURM_STEP_GPUS`, else
    /// `SLURM_JOB_GPUS`. Outside one, `CUDA_VISIBLE_DEVICES` when set (the
    /// user narrowed the devices), else `nvidia-smi -L`'s list (`nvidiaSMI`,
    /// nil when it is not installed).
    public static func devices(environment: [String: String], nvidiaSMI: String?) -> [String] {
        if let visible = environment["CUDA_VISIBLE_DEVICES"] { return list(visible) }
        if environment["SLURM_JOB_ID"] != nil {
            return list(environment["SLURM_STEP_GPUS"] ?? environment["SLURM_JOB_GPUS"] ?? "")
        }
        return nvidiaSMI.map(indices(fromNvidiaSMI:)) ?? []
    }

    /// `0,1` → ["0", "1"], read as CUDA reads it: a name given twice is one
    /// device, and a negative index ends the list (`-1` hides every GPU).
    /// Slurm's `NoDevFiles` (a job without GPUs) → none.
    static func list(_ text: String) -> [String] {
        guard text != "NoDevFiles" else { return [] }
        var names: [String] = []
        for name in text.split(separator: ",").map({ String($0).trimmingSpaces() }) where !name.isEmpty {
            if name.hasPrefix("-") { break }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// `GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-…)` per line → "0"; a GPU
    /// split into MIG instances (indented `MIG … (UUID: MIG-…)` lines after
    /// it) → those instances' UUIDs, the names CUDA takes for them.
    static func indices(fromNvidiaSMI output: String) -> [String] {
        var devices: [(index: String, instances: [String])] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix("GPU "), let colon = line.firstIndex(of: ":") {
                let index = line[line.index(line.startIndex, offsetBy: 4)..<colon]
                if index.allSatisfy(\.isNumber) && !index.isEmpty { devices.append((String(index), [])) }
            } else if String(line).trimmingSpaces().hasPrefix("MIG "), !devices.isEmpty,
                      let start = line.firstRange(of: "(UUID: ")?.upperBound, let end = line[start...].firstIndex(of: ")") {
                devices[devices.count - 1].instances.append(String(line[start..<end]))
            }
        }
        return devices.flatMap { $0.instances.isEmpty ? [$0.index] : $0.instances }
    }
}
