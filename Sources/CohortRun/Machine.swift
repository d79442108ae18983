import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine this rank runs on.
public enum Machine {
    /// What this node offers the job: inside Slurm, the allocation on this
    /// node (SLURM_CPUS_ON_NODE, SLURM_MEM_PER_NODE/PER_CPU); else the hardware.
    public static var offer: (cores: Int, memory: Int64) {
        let environment = currentEnvironment()
        if let slurm = SlurmAllocation.nodeCapacity(environment) {
            return (slurm.cpus, slurm.memory ?? memory)
        }
        return (cores, memory)
    }

    /// The node's name: Slurm's (SLURMD_NODENAME) inside an allocation, where
    /// it is what `--label-host` and `scontrol` use, else the host name.
    public static var hostName: String {
        if let node = getenv("SLURMD_NODENAME"), node.pointee != 0 { return String(cString: node) }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Online cores of the machine (not this process's affinity: MPI may
    /// have bound the rank to one core, and modules must not inherit that view).
    public static var cores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// The node's GPUs (see `GPUDiscovery`): from Slurm or CUDA_VISIBLE_DEVICES,
    /// else `nvidia-smi -L` when it is installed.
    public static var gpus: [String] {
        let environment = currentEnvironment()
        let listing = GPUDiscovery.readsNvidiaSMI(environment: environment) ? commandOutput("timeout 10 nvidia-smi -L 2>/dev/null") : nil
        return GPUDiscovery.devices(environment: environment, nvidiaSMI: listing)
    }

    /// What `command` printed, or nil when it could not run or printed nothing.
    private static func commandOutput(_ command: String) -> String? {
        guard let pipe = popen(command, "r") else { return nil }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
            output += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        pclose(pipe)
        return output.isEmpty ? nil : output
    }

    /// Physical memory in bytes.
    public static var memory: Int64 {
        Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Sleeps between polls when nothing happens. OpenMPI's blocking receive
/// spins a full core (NOTES-MPI), so ranks poll with `MPI_Iprobe` and sleep:
/// briefly (50 µs) for the first few milliseconds after the last message or
/// event, when a reply is likely on its way, then longer and longer up to
/// 2 ms. A rank that waits for long keeps well under 1 % of a core; a rank in
/// a quick exchange answers within tens of microseconds.
struct IdleBackoff {
    private var quietSince: Double? = nil
    private var nanoseconds = 0
    static let brief = 50_000
    static let briefWindow = 0.005
    static let cap = 2_000_000
    /// Rank 0's patience, taken only while running stages typically last
    /// twice as long, so that a follow-on's successor is queued before it
    /// ends (`/bin/true` takes about a millisecond here).
    static let rankZeroPatience = 400_000
    static let rankZeroPatienceSeconds = Double(rankZeroPatience) / 1e9

    mutating func reset() {
        quietSince = nil
        nanoseconds = 0
    }

    /// Sleeps, or waits until `descriptor` (a module launcher's reports) is
    /// readable, whichever comes first. A rank that expects nothing urgent
    /// from MPI waits at least `patience` nanoseconds (the backoff still
    /// grows past it in a long quiet): a worker whose modules fill its cpus
    /// or hold their successor (a module's end wakes it through
    /// `descriptor`), rank 0 while no worker can need its answer soon.
    mutating func pause(waitingOn descriptor: Int32? = nil, patience: Int? = nil) {
        let now = monotonicSeconds()
        if quietSince == nil { quietSince = now }
        if now - (quietSince ?? now) < Self.briefWindow {
            nanoseconds = Self.brief
        } else {
            nanoseconds = min(Self.cap, max(Self.brief, nanoseconds * 2))
        }
        if let patience { nanoseconds = max(nanoseconds, patience) }
        var request = timespec(tv_sec: 0, tv_nsec: nanoseconds)
        if let descriptor, descriptor >= 0, descriptor < FD_SETSIZE {
            // pselect, not poll: microseconds, not milliseconds (ppoll is not
            // imported). FD_SET is a macro: set the descriptor's bit by hand.
            var readable = fd_set()
            withUnsafeMutableBytes(of: &readable) { bits in
                bits[Int(descriptor) / 8] |= UInt8(1 << (descriptor % 8))
            }
            _ = pselect(descriptor + 1, &readable, nil, nil, &request, nil)
        } else {
            nanosleep(&request, nil)
        }
    }
}

/// Writes all of `text` to `fd`, retrying short writes and EINTR.
public func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let count = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { return }
        offset += count
    }
}
