import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// The allocation's end as Slurm knows it, for rank 0.
public enum SlurmQuery {
    /// SLURM_JOB_END_TIME, else `squeue -h -j $SLURM_JOB_ID -o %e` (local
    /// time, `2026-11-23T22:10:00`); nil outside Slurm or for an unlimited job.
    public static func allocationEnd() -> Double? {
        let environment = currentEnvironment()
        if let end = SlurmAllocation.endTime(environment) { return end }
        return squeueTime("%e", environment)
    }

    /// SLURM_JOB_START_TIME, else `squeue -o %S`: with the end, how long a
    /// whole allocation of this job is.
    public static func allocationStart() -> Double? {
        let environment = currentEnvironment()
        if let start = SlurmAllocation.startTime(environment) { return start }
        return squeueTime("%S", environment)
    }

    private static func squeueTime(_ field: String, _ environment: [String: String]) -> Double? {
        guard let job = environment["SLURM_JOB_ID"], job.allSatisfy(\.isNumber), !job.isEmpty else { return nil }
        guard let pipe = popen("squeue -h -j \(job) -o \(field) 2>/dev/null", "r") else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let line = fgets(&buffer, Int32(buffer.count), pipe) != nil
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        pclose(pipe)
        return parseLocalTime(line.trimmingTrailingNewlines())
    }

    /// `YYYY-MM-DDTHH:MM:SS` in local time, as seconds since the epoch.
    static func parseLocalTime(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == ":" }).compactMap { Int32($0) }
        guard text.count == 19, fields.count == 6 else { return nil }
        var parts = tm()
        parts.tm_year = fields[0] - 1900
        parts.tm_mon = fields[1] - 1
        parts.tm_mday = fields[2]
        parts.tm_hour = fields[3]
        parts.tm_min = fields[4]
        parts.tm_sec = fields[5]
        parts.tm_isdst = -1
        let seconds = mktime(&parts)
        return seconds > 0 ? Double(seconds) : nil
    }
}
