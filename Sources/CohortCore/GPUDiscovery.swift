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
        let names = trimmed.split(separator: ",", omittingEmptySubsequences: false).compactMap { deviceName(String($0)) }
        guard !names.isEmpty, names.count <= 64, names.count == trimmed.split(separator: ",", omittingEmptySubsequences: false).count,
              Set(names).count == names.count
        else { return nil }
        return names
    }

    /// A device as CUDA_VISIBLE_DEVICES names it: an index (`01` is device
    /// `1`), or a UUID (`GPU-…`, `MIG-…`); nil for anything else (a negative
    /// index, a typo), where CUDA stops reading the list.
    public static func deviceName(_ text: String) -> String? {
        let name = text.trimmingSpaces()
        if !name.isEmpty, name.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Int(name).map(String.init) ?? nil
        }
        guard name.hasPrefix("GPU-") || name.hasPrefix("MIG-"), name.count > 4,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "/") }) else { return nil }
        return name
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

    /// Whether `devices` reads `nvidia-smi -L` in this environment (else
    /// there is no need to run it).
    public static func readsNvidiaSMI(environment: [String: String]) -> Bool {
        environment["CUDA_VISIBLE_DEVICES"] == nil && environment["SLURM_JOB_ID"] == nil
    }

    /// `0,1` → ["0", "1"], read as CUDA reads it: a device named twice is
    /// one (`1,01`), and an entry that names none ends the list (`-1` hides
    /// every GPU; `0,x,1` is device 0).
    /// Slurm's `NoDevFiles` (a job without GPUs) → none.
    static func list(_ text: String) -> [String] {
        guard text != "NoDevFiles" else { return [] }
        var names: [String] = []
        for entry in text.split(separator: ",") {
            guard let name = deviceName(String(entry)) else { break }
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
