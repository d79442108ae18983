import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// `rerun.sh` in a failed attempt's folder: the exact command, folder and
/// environment the worker gave the module, to rerun it by hand (in a shell
/// on that node, under a debugger). Written only for failures: a success
/// leaves no extra file.
enum RerunScript {
    static func text(for order: TaskOrder, rank: Int, host: String) -> String {
        var lines = [
            "#!/bin/sh",
            "# \(order.name), as rank \(rank) on \(host) ran it: sh \(CommandTemplate.shellQuoted(order.attemptFolder + "/rerun.sh"))",
            "# (the worker's own environment, less mpirun's variables, plus these)",
            "cd \(CommandTemplate.shellQuoted(order.directory)) || exit 1",
        ]
        for variable in order.environment { lines.append("export \(variable.name)=\(CommandTemplate.shellQuoted(variable.value))") }
        lines.append("export COHORT_RANK=\(CommandTemplate.shellQuoted(String(rank))) COHORT_HOST=\(CommandTemplate.shellQuoted(host))")
        lines.append("exec /bin/sh -c \(CommandTemplate.shellQuoted(order.command))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func write(for order: TaskOrder, rank: Int, host: String) {
        // The folder exists already if the module printed anything.
        guard makeFolder(order.attemptFolder) == nil else { return }
        let path = order.attemptFolder + "/rerun.sh"
        // Only its owner may read it: it holds the job's env and --export values.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o700)
        guard fd >= 0 else { return }
        writeAll(fd, text(for: order, rank: rank, host: host))
        close(fd)
    }

}
