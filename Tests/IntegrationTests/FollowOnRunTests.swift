import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Follow-ons under a real mpirun: a worker starts the instance queued
/// behind a short one the moment it ends, never beside it.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found (set CI=true to make this a failure)"))
struct FollowOnRunTests {
    /// A study of `count` subjects and one subject stage, `tick`, running `run`.
    func study(_ name: String, subjects count: Int, run: String) throws -> (job: String, folder: String) {
        let job = try MPIHarness.writeJob("""
            study: \(name)
            subjects: [\((1...count).map { "s\($0)" }.joined(separator: ", "))]
            stages:
              - {name: tick, domain: subject, run: '\(run)'}
            """)
        return (job, String(job.dropLast("/job.yml".count)))
    }

    @Test func oneSlotWorkersRunTheirFollowOnsOneAtATimeEachOnce() throws {
        let count = 300
        // A module that finds its rank's slot folder taken ran beside another.
        let (job, folder) = try study("quick", subjects: count,
                                      run: "mkdir slot-$COHORT_RANK 2>/dev/null || echo overlap >> ledger; echo {subject} >> ledger; rmdir slot-$COHORT_RANK")
        let result = try MPIHarness.run(ranks: 3, ["run", job, "--slots", "1"])
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("All \(count) instances done."))
        let lines = Files.read(folder + "/ledger").split(separator: "\n")
        #expect(!lines.contains("overlap"), "two modules ran at once on a one-slot worker")
        #expect(lines.count == count && Set(lines).count == count, "each instance ran once")

        // The journal shows follow-ons: a start on a rank before the end of
        // the instance running there (rank 0 queued it behind that one).
        var open: [String: Int] = [:]
        var queuedBehindAnother = 0
        for line in Files.read(folder + "/.cohort/quick/journal").split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count > 2, let rank = fields.first(where: { $0.hasPrefix("rank=") }) else { continue }
            if fields[1] == "start" {
                open[String(rank), default: 0] += 1
                if open[String(rank)]! > 1 { queuedBehindAnother += 1 }
            } else if fields[1] == "end" {
                open[String(rank), default: 0] -= 1
            }
        }
        #expect(queuedBehindAnother > count / 4, "follow-ons were queued for \(queuedBehindAnother) of \(count)")
    }

    /// A stop while follow-ons wait behind running modules: those never
    /// started are not counted done, and the rerun runs what did not
    /// succeed and nothing that did.
    @Test func aStopWithFollowOnsQueuedLosesNothingAndRedoesNothing() throws {
        let count = 3000
        let (job, folder) = try study("stopped", subjects: count, run: "echo {subject} >> ledger")
        let first = try MPIHarness.start(ranks: 3, ["run", job, "--slots", "1"])
        #expect(Clock.waitUntil(timeout: 30) { Files.read(folder + "/ledger").split(separator: "\n").count > 300 })
        kill(first.pid, SIGTERM)
        let stopped = first.wait(timeout: 30)
        #expect(stopped.code != 0, "stopped before the end: \(stopped.output)")
        let journal = folder + "/.cohort/stopped/journal"
        let doneBefore = Set(JournalHistory(text: Files.read(journal)).entries.filter { $0.value.success != nil }.map(\.key))
        #expect(!doneBefore.isEmpty && doneBefore.count < count, "\(doneBefore.count) done before the stop")
        let linesBefore = Files.read(folder + "/ledger").split(separator: "\n").count

        let rerun = try MPIHarness.run(ranks: 3, ["run", job, "--slots", "1"])
        #expect(rerun.code == 0, "\(rerun.output)")
        let again = Files.read(folder + "/ledger").split(separator: "\n").dropFirst(linesBefore).map { "tick:" + $0 }
        #expect(Set(again).isDisjoint(with: doneBefore), "finished instances ran again: \(Set(again).intersection(doneBefore).count)")
        let history = JournalHistory(text: Files.read(journal))
        #expect(history.entries.filter { $0.value.success != nil }.count == count)
    }
}
