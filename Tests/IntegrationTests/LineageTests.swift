import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// "All done" means every result is current (DESIGN §5, lineage): the
/// reproductions of issue 8, each with the built binary and real modules,
/// and a randomised run of changes, forces, selections and kills.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct LineageTests {
    /// `cohort run` in one process (or under mpirun with `ranks`), the modules' ledger and delay set.
    @discardableResult
    func run(_ study: LineageStudy, _ options: [String] = [], delay: String = "0", ranks: Int? = nil) throws -> ChildProcess.Result {
        let environment = ["LEDGER": study.ledger, "DELAY": delay]
        if let ranks {
            return try MPIHarness.run(ranks: ranks, ["run", study.job, "--slots", "2"] + options, environment: environment)
        }
        return try ChildProcess.run([MPIHarness.cohort, "run", study.job, "--slots", "2"] + options,
                                    environment: environment, timeout: 120)
    }

    func start(_ study: LineageStudy, _ options: [String] = [], delay: String) throws -> ChildProcess {
        try ChildProcess([MPIHarness.cohort, "run", study.job, "--slots", "1"] + options,
                         environment: ["LEDGER": study.ledger, "DELAY": delay])
    }

    /// Instances whose success the journal records after the last `--force`.
    func redoneSinceForce(_ study: LineageStudy) -> Set<String> {
        var redone: Set<String>? = nil
        for line in Files.read(study.folder + "/.cohort/lineage/journal").split(separator: "\n") {
            switch try? JournalFormat.decode(line) {
            case .forced?: redone = []
            case .finished(let attempt, let ending)? where ending.outcome == .succeeded: redone?.insert(attempt.instance)
            default: break
            }
        }
        return redone ?? []
    }

    /// What a run began, given the ledger's length before it.
    func ranSince(_ study: LineageStudy, _ before: Int) -> [String] { Array(study.began().dropFirst(before)) }

    @Test func upstreamRedoneWithOnlyMakesThePlainRunRedoDownstream() throws {
        var study = try LineageStudy()
        #expect(try run(study).code == 0)
        study.tokens["a"] = "v2"
        study.writeJob()
        var before = study.began().count
        let only = try run(study, ["--only", "a"])
        #expect(only.code == 0, "\(only.output)")
        #expect(Set(ranSince(study, before)) == ["a:s1", "a:s2", "a:s3"])
        #expect(Set(study.staleResults().keys) == ["b:s1", "b:s2", "b:s3"], "made from the old a (c, from b, follows)")

        before = study.began().count
        let plain = try run(study)
        #expect(plain.code == 0, "\(plain.output)")
        #expect(plain.stdout.contains("b: 0 done earlier, 3 to run (3 upstream redone)"), "\(plain.stdout)")
        #expect(plain.stdout.contains("c: 0 done earlier, 1 to run (1 upstream reruns)"))
        #expect(Set(ranSince(study, before)) == ["b:s1", "b:s2", "b:s3", "c"])
        #expect(study.staleResults().isEmpty)
    }

    enum Stop: String, CaseIterable { case sigterm, killNine, walltime, lostRank }

    /// `--force a` stopped after some of a was redone: the plain command
    /// finishes it without redoing what was redone, and redoes downstream.
    @Test(arguments: Stop.allCases)
    func interruptedForceIsCompletedByThePlainRun(_ stop: Stop) throws {
        let study = try LineageStudy(subjects: ["s1", "s2", "s3", "s4"])
        #expect(try run(study, delay: "0.3").code == 0)
        switch stop {
        case .sigterm, .killNine:
            let forced = try start(study, ["--force", "a"], delay: "0.6")
            #expect(Clock.waitUntil(timeout: 30) { !redoneSinceForce(study).isEmpty })
            kill(forced.pid, stop == .sigterm ? SIGTERM : SIGKILL)
            let result = forced.wait(timeout: 30)
            #expect(result.code == (stop == .sigterm ? 143 : 128 + SIGKILL), "\(result.output)")
        case .walltime:
            // The journal says a takes ~0.3 s; an allocation that ends 1.5 s
            // from now lets a few start, then holds the rest.
            let end = Int(Clock.epoch + 1.5)
            let forced = try ChildProcess.run(
                [MPIHarness.cohort, "run", study.job, "--slots", "1", "--force", "a"],
                environment: ["LEDGER": study.ledger, "DELAY": "0.3", "SLURM_JOB_ID": "1", "SLURM_JOB_END_TIME": String(end)],
                timeout: 60)
            #expect(forced.code == 143, "\(forced.output)")
        case .lostRank:
            let forced = try MPIHarness.start(ranks: 3, ["run", study.job, "--slots", "1", "--force", "a"],
                                              environment: ["LEDGER": study.ledger, "DELAY": "0.6"])
            #expect(Clock.waitUntil(timeout: 30) { !redoneSinceForce(study).isEmpty })
            let workers = ProcessTable.ranks(2, of: study.job)
            #expect(workers.count == 1)
            for worker in workers { kill(worker, SIGKILL) }
            let result = forced.wait(timeout: 30)
            #expect(result.code != 0)
            _ = Clock.waitUntil(timeout: 15) {
                ProcessTable.processes(matching: ["/cohort", "run", study.job]).allSatisfy { !ProcessTable.isAlive($0) }
            }
        }
        let redone = redoneSinceForce(study)
        let endedBefore = study.ended().count
        let plain = try run(study)
        #expect(plain.code == 0, "\(stop): \(plain.output)")
        let rerun = Set(study.ended().dropFirst(endedBefore))
        #expect(rerun.isDisjoint(with: redone), "\(stop): redone again: \(rerun.intersection(redone))")
        // The rest of a, and everything downstream of a, ran (again) to completion.
        let expected = Set(study.instances).subtracting(redone)
        #expect(rerun == expected, "\(stop): ran \(rerun.sorted()), expected \(expected.sorted())")
        #expect(study.staleResults().isEmpty, "\(stop): \(study.staleResults())")
        if stop != .walltime { #expect(!redone.isEmpty) }
    }

    /// A requeued Slurm job (or a resubmission) repeats its `--force` with
    /// the same id: it completes the journaled request instead of forcing
    /// again; the same id for another request is refused; no id, a new force.
    @Test func repeatedForceWithTheSameIdCompletesTheRequest() throws {
        let study = try LineageStudy(subjects: ["s1", "s2", "s3", "s4"])
        #expect(try run(study, delay: "0.3").code == 0)
        let forced = try start(study, ["--force", "a", "--force-id", "job-7"], delay: "0.6")
        #expect(Clock.waitUntil(timeout: 30) { !redoneSinceForce(study).isEmpty })
        kill(forced.pid, SIGKILL)
        _ = forced.wait(timeout: 30)
        let redone = redoneSinceForce(study)
        #expect(!redone.isEmpty)

        var endedBefore = study.ended().count
        let requeued = try ChildProcess.run([MPIHarness.cohort, "run", study.job, "--slots", "2", "--force", "a"],
                                            environment: ["LEDGER": study.ledger, "DELAY": "0", "COHORT_FORCE_ID": "job-7"],
                                            timeout: 120)
        #expect(requeued.code == 0, "\(requeued.output)")
        #expect(requeued.stdout.contains("--force request job-7 is in the journal already"), "\(requeued.stdout)")
        let rerun = Set(study.ended().dropFirst(endedBefore))
        #expect(rerun.isDisjoint(with: redone), "redone again: \(rerun.intersection(redone))")
        #expect(rerun == Set(study.instances).subtracting(redone))
        #expect(study.staleResults().isEmpty)

        let other = try run(study, ["--force", "b", "--force-id", "job-7"])
        #expect(other.code == 2)
        #expect(other.stderr.contains("--force-id job-7 names an earlier, different request (--force a)"), "\(other.stderr)")
        let unsafe = try run(study, ["--force", "a", "--force-id", "../x"])
        #expect(unsafe.code == 2)
        #expect(unsafe.stderr.contains("--force-id ../x"), "\(unsafe.stderr)")

        endedBefore = study.ended().count
        #expect(try run(study, ["--force", "a"]).code == 0)
        #expect(Set(study.ended().dropFirst(endedBefore)) == Set(study.instances), "no id: a new force of a and downstream")
    }

    @Test func forceWithinASelectionRedoesExactlyTheSelection() throws {
        let study = try LineageStudy()
        #expect(try run(study).code == 0)
        var before = study.began().count
        let forced = try run(study, ["--force", "a", "--subjects", "s2", "--progress", "lines"])
        #expect(forced.code == 0, "\(forced.output)")
        #expect(ranSince(study, before) == ["a:s2", "b:s2"])
        #expect(forced.stdout.contains("a: 2 done earlier, 1 to run (1 forced)"), "\(forced.stdout)")
        #expect(forced.stdout.contains("c: 0 done earlier, 0 to run, 1 outside the selection"))
        #expect(forced.stdout.contains("2/2"), "the progress total counts what the selection allows")
        #expect(forced.stdout.contains("Selection done: 2 ran now"))
        before = study.began().count
        #expect(try run(study).code == 0)
        #expect(ranSince(study, before) == ["c"])
        #expect(study.staleResults().isEmpty)

        let nothing = try run(study, ["--force", "b", "--only", "a"])
        #expect(nothing.code == 2)
        #expect(nothing.stderr.contains("--force b: no instance of it is selected"), "\(nothing.stderr)")
        #expect(!Files.read(study.folder + "/.cohort/lineage/journal").contains("stages=b\t"), "not journaled")
    }

    @Test func removingASubjectRerunsTheStudyStage() throws {
        var study = try LineageStudy()
        #expect(try run(study).code == 0)
        study.subjects = ["s1", "s2"]
        study.writeJob()
        let before = study.began().count
        let plain = try run(study)
        #expect(plain.code == 0)
        #expect(plain.stdout.contains("c: 0 done earlier, 1 to run (1 inputs changed)"), "\(plain.stdout)")
        #expect(ranSince(study, before) == ["c"])
    }

    @Test func editingAModuleScriptRerunsItsStageButSchedulingSettingsNeverDo() throws {
        var study = try LineageStudy()
        #expect(try run(study).code == 0)
        study.cpus["b"] = 2
        study.writeJob()
        var before = study.began().count
        let settings = try run(study)
        #expect(settings.code == 0)
        #expect(ranSince(study, before).isEmpty, "changing cpus reran \(ranSince(study, before))")

        study.editScript("b", "now with a better filter")
        before = study.began().count
        let edited = try run(study)
        #expect(edited.code == 0)
        #expect(edited.stdout.contains("b: 0 done earlier, 3 to run (3 script changed)"), "\(edited.stdout)")
        #expect(Set(ranSince(study, before)) == ["b:s1", "b:s2", "b:s3", "c"])
        #expect(study.staleResults().isEmpty)
    }

    /// Random interleavings of what a real study goes through. After each
    /// plain or selective run that completes, nothing that was current and
    /// recorded was redone; after the final plain run, every result is current.
    @Test(arguments: [1, 2])
    func randomChangesForcesSelectionsAndKillsEndCurrent(_ round: Int) throws {
        let seed = UInt64(ProcessEnvironment.value("COHORT_TEST_SEED") ?? "") ?? UInt64.random(in: 1...1_000_000)
        var random = SplitMix(seed: seed &+ UInt64(round))
        var study = try LineageStudy()
        var nextSubject = 4
        var log: [String] = []
        func note(_ text: String) { log.append(text) }
        func context() -> String { "seed \(seed) round \(round): " + log.joined(separator: "; ") }
        for step in 0..<14 {
            let subject = study.subjects[Int(random.next() % UInt64(study.subjects.count))]
            let stage = LineageStudy.stages[Int(random.next() % 3)]
            switch random.next() % 9 {
            case 0:
                study.tokens[stage] = "v\(step)"
                study.writeJob()
                note("token \(stage)")
            case 1:
                study.editScript(stage, "edit \(step)")
                note("script \(stage)")
            case 2:
                study.cpus[stage] = 1 + Int(random.next() % 2)
                study.writeJob()
                note("cpus \(stage)")
            case 3:
                study.subjects.append("s\(nextSubject)")
                nextSubject += 1
                study.writeJob()
                note("add subject")
            case 4 where study.subjects.count > 1:
                study.subjects.removeAll { $0 == subject }
                _ = try ChildProcess.run(["rm", "-rf", "\(study.folder)/out/a/\(subject)", "\(study.folder)/out/b/\(subject)"])
                study.writeJob()
                note("remove \(subject)")
            case 5, 6:
                // A run stopped at a random moment: SIGTERM or kill -9.
                let options = random.next() % 2 == 0 ? ["--force", stage] : []
                let child = try start(study, options, delay: "0.1")
                Clock.sleep(Double(random.next() % 8) / 10)
                let signal = random.next() % 2 == 0 ? SIGTERM : SIGKILL
                kill(child.pid, signal)
                _ = child.wait(timeout: 30)
                note("killed \(options) with \(signal)")
            case 7:
                let options = random.next() % 2 == 0 ? ["--force", stage, "--only", stage == "c" ? "c" : "\(stage):\(subject)"]
                    : ["--force", stage]
                let result = try run(study, options)
                #expect([0, 1].contains(result.code), "\(context()): \(result.output)")
                note("\(options)")
            default:
                let options = random.next() % 2 == 0 ? ["--only", stage] : ["--subjects", subject]
                let current = study.currentAndRecorded()
                let before = study.began().count
                let result = try run(study, options, ranks: random.next() % 4 == 0 ? 3 : nil)
                #expect([0, 1].contains(result.code), "\(context()): \(result.output)")
                let redone = Set(ranSince(study, before)).intersection(current)
                #expect(redone.isEmpty, "\(context()): \(options) redid current \(redone)")
                note("\(options)")
            }
        }
        let current = study.currentAndRecorded()
        let before = study.began().count
        let final = try run(study)
        #expect(final.code == 0, "\(context()): \(final.output)")
        #expect(final.stdout.contains("All \(study.instances.count) instances done"), "\(context()): \(final.stdout)")
        #expect(Set(ranSince(study, before)).isDisjoint(with: current), "\(context()): the final run redid current results")
        #expect(study.staleResults().isEmpty, "\(context()): \(study.staleResults())")
        let again = study.began().count
        #expect(try run(study).code == 0)
        #expect(study.began().count == again, "\(context()): a second plain run ran something")
    }
}
