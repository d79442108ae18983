import CohortCore
import CohortTesting
import Testing

/// Item stages under a real mpirun (DESIGN §8): instances found at run time,
/// journaled with their generator, kept across runs by their item.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found (set CI=true to make this a failure)"))
struct ItemRunTests {
    static let job = """
        study: cryo
        subjects: [g1]
        sessions: [s0, s1, s2]
        stages:
          - name: import
            domain: session
            items: true
            run: cd raw/{session} && ls > "$COHORT_ITEMS"
          - name: motioncorr
            foreach: import
            run: echo "mc {session} {item}" >> ledger; echo "$COHORT_ITEM" > {workdir}/aligned
          - name: ctf
            foreach: import
            run: echo "ctf {session} $COHORT_ITEM" >> ledger; cat out/motioncorr/g1/{session}/{item}/aligned > {workdir}/ctf
          - name: pick
            domain: session
            after: [ctf]
            run: echo "pick {session}" >> ledger
          - name: classes
            domain: study
            run: echo classes >> ledger
        """

    func ledger(_ folder: String) -> [String] {
        Files.read(folder + "/ledger").split(separator: "\n").map(String.init).sorted()
    }

    @Test func raggedItemsRunOnceAndAChangedListRerunsOnlyWhatItChanged() throws {
        let job = try MPIHarness.writeJob(Self.job)
        let folder = String(job.dropLast("/job.yml".count))
        // Ragged: no movie in s0, one in s1, three in s2.
        for movie in ["s1/a.tif", "s2/b.tif", "s2/c.tif", "s2/d.tif"] { Files.write(folder + "/raw/" + movie, "") }
        Files.makeFolder(folder + "/raw/s0")
        let first = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(first.code == 0, "\(first.output)")
        #expect(first.stdout.contains("All 15 instances done."), "3 imports, 4 + 4 items, 3 picks, classes: \(first.stdout)")
        #expect(ledger(folder).filter { $0.hasPrefix("mc ") } == ["mc s1 a.tif", "mc s2 b.tif", "mc s2 c.tif", "mc s2 d.tif"])
        #expect(ledger(folder).contains("pick s0"), "a session whose import listed nothing still picks")
        #expect(Files.read(folder + "/out/ctf/g1/s2/c.tif/ctf") == "c.tif\n")

        Files.write(folder + "/ledger", "")
        let again = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(again.code == 0 && again.stdout.contains("All 15 instances done (15 in earlier runs)."), "\(again.output)")
        #expect(ledger(folder).isEmpty, "the items were journaled: nothing runs again")

        // Every import's run line changes: they list again; in s2, e appears and b goes.
        _ = try ChildProcess.run(["rm", folder + "/raw/s2/b.tif"])
        Files.write(folder + "/raw/s2/e.tif", "")
        Files.write(folder + "/job.yml", Self.job.replacingOccurrences(of: "ls > ", with: "ls -1 > "))
        Files.write(folder + "/ledger", "")
        let changed = try MPIHarness.run(ranks: 3, ["run", job])
        #expect(changed.code == 0, "\(changed.output)")
        #expect(ledger(folder) == ["classes", "ctf s2 e.tif", "mc s2 e.tif", "pick s0", "pick s1", "pick s2"],
                "items kept by their item; the new one runs; every import reran, so every session re-picks")
        let status = try ChildProcess.run([MPIHarness.cohort, "status", job])
        #expect(status.stdout.contains("  motioncorr      4       0        0       0      4"), "b's instances left the study: \(status.stdout)")
    }

    @Test func aGeneratorsBadListFailsItAndWhatWaitsOnItIsSkipped() throws {
        let job = try MPIHarness.writeJob(Self.job.replacingOccurrences(of: "cd raw/{session} && ls > \"$COHORT_ITEMS\"",
                                                                         with: "echo ../../etc/passwd > \"$COHORT_ITEMS\""))
        let result = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(result.code == 1, "\(result.output)")
        #expect(result.stdout.contains("leaves the job folder"), "\(result.stdout)")
        #expect(result.stdout.contains("skipped"), "\(result.stdout)")
    }

    /// An item that ran in an earlier run, vanished, and is listed again
    /// during a later run goes on with its attempt numbers (its earlier
    /// folder is not taken for a first attempt's).
    @Test func anItemListedAgainGoesOnWithItsAttemptNumbers() throws {
        let job = try MPIHarness.writeJob("""
            study: again
            stages:
              - {name: import, domain: study, items: true, run: 'cat list > "$COHORT_ITEMS" # v1'}
              - {name: each, foreach: import, run: 'echo "$COHORT_ATTEMPT" > {workdir}/attempt'}
            """)
        let folder = String(job.dropLast("/job.yml".count))
        Files.write(folder + "/list", "a\n")
        #expect(try MPIHarness.run(ranks: 2, ["run", job]).code == 0)
        #expect(Files.read(folder + "/out/each/a/attempt") == "1\n")
        // The generator changes and lists nothing: a leaves the study.
        Files.write(folder + "/list", "")
        Files.write(folder + "/job.yml", Files.read(job).replacingOccurrences(of: "cat list", with: "cat ./list"))
        #expect(try MPIHarness.run(ranks: 2, ["run", job]).code == 0)
        // It changes again and lists a: unknown when the run plans, listed during it.
        Files.write(folder + "/list", "a\n")
        Files.write(folder + "/job.yml", Files.read(job).replacingOccurrences(of: "cat ./list", with: "cat ././list"))
        let third = try MPIHarness.run(ranks: 2, ["run", job])
        #expect(third.code == 0, "\(third.output)")
        #expect(Files.read(folder + "/out/each/a/attempt") == "2\n", "its second attempt over every run")
    }
}
