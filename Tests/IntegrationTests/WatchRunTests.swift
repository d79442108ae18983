import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Generators under a real mpirun that watch for data while the run goes
/// on, and runs killed with -9 around a generator's success (DESIGN §8).
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found (set CI=true to make this a failure)"))
struct WatchRunTests {
    /// A "microscope" the pipeline drives itself, so the test is not a race:
    /// aligning movie a writes movie b, aligning b writes c and then DONE.
    static let job = """
        study: stream
        subjects: [g1]
        sessions: [s1]
        stages:
          - name: import
            domain: session
            items: true
            watch: 1s
            until: raw/{session}/DONE
            run: echo import >> ledger; cd raw/{session} && ls *.tif > "$COHORT_ITEMS"
          - name: motioncorr
            foreach: import
            run: |
              echo "mc $COHORT_ITEM" >> ledger
              case "$COHORT_ITEM" in
                a.tif) touch raw/{session}/b.tif ;;
                b.tif) touch raw/{session}/c.tif raw/{session}/DONE ;;
              esac
          - name: pick
            domain: session
            after: [motioncorr]
            run: echo "pick $(ls out/motioncorr/g1/{session} | tr '\\n' ' ')" >> ledger
        """

    func ledger(_ folder: String) -> [String] {
        Files.read(folder + "/ledger").split(separator: "\n").map(String.init)
    }

    func folder(of job: String) -> String { String(job.dropLast("/job.yml".count)) }

    @Test func aWatchedGeneratorGainsItemsWhileTheRunGoesOnAndTheSessionWaitsForAll() throws {
        let job = try MPIHarness.writeJob(Self.job)
        let folder = folder(of: job)
        Files.write(folder + "/raw/s1/a.tif", "")
        let result = try MPIHarness.run(ranks: 3, ["run", "--progress", "lines", job])
        #expect(result.code == 0, "\(result.output)")
        let lines = ledger(folder)
        #expect(lines.filter { $0.hasPrefix("mc ") } == ["mc a.tif", "mc b.tif", "mc c.tif"], "each movie once, as it appeared: \(lines)")
        #expect(lines.last == "pick a.tif b.tif c.tif ", "the session picks once, after every movie: \(lines)")
        #expect(lines.filter { $0 == "import" }.count >= 3, "it looked again while the run went on: \(lines)")
        #expect(result.stdout.contains("watching import:g1:s1: 1 new item; looking again in 1s"), "\(result.stdout)")
        #expect(result.stdout.contains("last look done, the watch ended"), "\(result.stdout)")
        #expect(result.stdout.contains("All 5 instances done."), "import, 3 movies, pick: \(result.stdout)")

        Files.write(folder + "/ledger", "")
        let again = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(again.code == 0 && again.stdout.contains("All 5 instances done (5 in earlier runs)."), "\(again.output)")
        #expect(ledger(folder).isEmpty, "its watch ended: nothing looks again")
    }

    /// Killed while it watched: the next run looks again (items already run
    /// stay done); with `--no-watch` it ends once nothing else is left, even
    /// without the `until` file.
    @Test func aRunKilledWhileWatchingLooksAgainWhenResumed() throws {
        let job = try MPIHarness.writeJob(Self.job.replacingOccurrences(of: "touch raw/{session}/c.tif raw/{session}/DONE", with: "true"))
        let folder = folder(of: job)
        Files.write(folder + "/raw/s1/a.tif", "")
        let first = try MPIHarness.start(ranks: 3, ["run", job])
        let watched = Clock.waitUntil(timeout: 30) { ledger(folder).filter { $0 == "import" }.count >= 3 }
        kill(first.pid, SIGKILL)
        _ = first.wait(timeout: 10)
        _ = Clock.waitUntil(timeout: 15) {
            ProcessTable.processes(matching: ["/cohort", "run", job]).allSatisfy { !ProcessTable.isAlive($0) }
        }
        #expect(watched, "it kept looking: \(ledger(folder))")
        let journal = Files.read(folder + "/.cohort/stream/journal").split(separator: "\n")
        let lists = journal.filter { $0.contains("\titems\t") }, changes = journal.filter { $0.contains("\titemschange\t") }
        #expect(lists.count == 1 && changes.count == 1, "the list once ([a]), then what a look added (b), not every look: \(lists.count) \(changes.count)")
        #expect(changes.first?.contains("added=b.tif\t") == true, "\(changes)")
        #expect(ledger(folder).filter { $0.hasPrefix("mc ") } == ["mc a.tif", "mc b.tif"])

        let plan = try ChildProcess.run([MPIHarness.cohort, "plan", job])
        // Killed between looks, or during one.
        #expect(plan.stdout.contains("import: 0 done earlier, 1 to run (1 still watching)")
                || plan.stdout.contains("import: 0 done earlier, 1 to run (1 unfinished earlier)"), "\(plan.stdout)")
        if plan.stdout.contains("still watching") {
            let status = try ChildProcess.run([MPIHarness.cohort, "status", job])
            #expect(status.stdout.contains("Watching (1): import:g1:s1; the next run looks for new items again"), "\(status.stdout)")
        }
        Files.write(folder + "/ledger", "")
        Files.write(folder + "/raw/s1/c.tif", "")
        let resumed = try MPIHarness.run(ranks: 3, ["run", "--no-watch", job])
        #expect(resumed.code == 0, "\(resumed.output)")
        let lookingAgain = resumed.stdout.split(separator: "\n").filter { $0.contains("looking again in") }
        #expect(!lookingAgain.isEmpty && lookingAgain.allSatisfy { $0.hasSuffix(", or once nothing else is left (--no-watch: the last look)") }, "\(lookingAgain)")
        let lines = ledger(folder)
        #expect(lines.filter { $0.hasPrefix("mc ") } == ["mc c.tif"], "a and b ran before the kill: \(lines)")
        #expect(lines.last == "pick a.tif b.tif c.tif ", "\(lines)")
    }

    /// `kill -9` after a generator's success is journaled and before its
    /// items end: the next run knows the items without listing again, and
    /// runs each item once.
    @Test func killNineBetweenAGeneratorsSuccessAndItsItemsRuns() throws {
        let job = try MPIHarness.writeJob("""
            study: killed
            stages:
              - {name: import, domain: study, items: true, run: 'echo import >> ledger; printf "a\\nb\\nc\\n" > "$COHORT_ITEMS"'}
              - name: each
                foreach: import
                run: |
                  echo "begin $COHORT_ITEM" >> ledger
                  while [ ! -e go ]; do sleep 0.05; done
                  echo "end $COHORT_ITEM" >> ledger
              - {name: total, domain: study, after: [each], run: echo total >> ledger}
            """)
        let folder = folder(of: job)
        let first = try MPIHarness.start(ranks: 3, ["run", job])
        let begun = Clock.waitUntil(timeout: 30) { ledger(folder).contains { $0.hasPrefix("begin ") } }
        kill(first.pid, SIGKILL)
        _ = first.wait(timeout: 10)
        _ = Clock.waitUntil(timeout: 15) {
            ProcessTable.processes(matching: ["/cohort", "run", job]).allSatisfy { !ProcessTable.isAlive($0) }
        }
        #expect(begun, "\(ledger(folder))")
        let history = JournalHistory(text: Files.read(folder + "/.cohort/killed/journal"))
        #expect(history.itemLists["import"] == ["a", "b", "c"], "journaled with the generator's success")
        #expect(history["import"]?.success != nil)

        Files.write(folder + "/go", "")
        Files.write(folder + "/ledger", "")
        let second = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(second.code == 0, "\(second.output)")
        let lines = ledger(folder)
        #expect(!lines.contains("import"), "the generator is not run again: \(lines)")
        #expect(lines.filter { $0.hasPrefix("end ") }.sorted() == ["end a", "end b", "end c"], "each item once: \(lines)")
        #expect(lines.last == "total")
    }
}
