import CohortCore
import Testing

/// Every kind of job-file mistake gives a located, one-line problem.
@Suite struct ValidationTests {
    let valid = """
        study: ds001
        subjects: [sub-01, sub-02]
        sessions: [ses-1]
        stages:
          - name: convert
            domain: session
            run: convert.sh {subject} {session}
          - name: realign
            domain: session
            run: realign.sh
        """

    func problems(_ text: String) -> [JobFileProblem] {
        do {
            _ = try JobLoader.load(text: text, file: "job.yml")
            return []
        } catch {
            return error.problems
        }
    }

    func only(_ text: String) -> JobFileProblem? {
        let found = problems(text)
        #expect(found.count == 1, "expected one problem, got \(found.map(\.description))")
        return found.first
    }

    @Test func validJobLoads() throws {
        let job = try JobLoader.load(text: valid, file: "job.yml")
        #expect(job.study == "ds001")
        #expect(job.workdir == "out")
        #expect(job.subjects.map(\.sessions) == [["ses-1"], ["ses-1"]])
        #expect(job.stages.map(\.dependencies) == [[], [0]])
    }

    @Test func yamlSyntaxErrorNamesTheLine() {
        let problem = only("study: s\nstages:\n  - name: [unclosed\n    domain: study\n")
        #expect(problem?.line == 4 || problem?.line == 3)
        #expect(problem?.message.contains("YAML syntax") == true)
    }

    @Test func unknownKeySuggestsTheRightOne() {
        let problem = only(valid.replacingOccurrences(of: "    run: realign.sh", with: "    run: realign.sh\n    cpu: 2"))
        #expect(problem?.line == 11)
        #expect(problem?.field == "stages[1].cpu")
        #expect(problem?.description == "job.yml:11: stages[1].cpu: unknown key (did you mean \"cpus\"?)")
    }

    @Test func unknownTopLevelKey() {
        let problem = only("studdy: x\n" + valid)
        #expect(problem?.line == 1)
        #expect(problem?.message == "unknown key (did you mean \"study\"?)")
    }

    @Test func missingFields() {
        let found = problems("study: s\nsubjects: [a]\nstages:\n  - name: x\n    domain: subject\n  - domain: study\n    run: go\n")
        #expect(found.map(\.description) == [
            "job.yml:4: stages[0].run: missing (the shell command to run)",
            "job.yml:6: stages[1].name: missing",
        ])
        #expect(only("subjects: [a]\nstages:\n  - {name: x, domain: study, run: go}\n")?.description
            == "job.yml:1: study: missing (the study's name, e.g. study: ds001)")
    }

    @Test func unknownStageInAfterSuggests() {
        let text = valid + "\n  - name: smooth\n    domain: session\n    after: [realing]\n    run: smooth.sh\n"
        let problem = only(text)
        #expect(problem?.description == "job.yml:13: stages[2].after[0]: unknown stage \"realing\" (did you mean \"realign\"?)")
    }

    @Test func duplicateStage() {
        let text = valid + "\n  - name: convert\n    domain: session\n    run: again.sh\n"
        #expect(only(text)?.description == "job.yml:11: stages[2].name: stage \"convert\" is defined twice (first at line 5)")
    }

    @Test func cycleIsPrinted() {
        let text = """
            study: s
            stages:
              - {name: a, domain: study, run: x, after: [c]}
              - {name: b, domain: study, run: x}
              - {name: c, domain: study, run: x}
            """
        let problem = only(text)
        #expect(problem?.line == 3)
        #expect(problem?.message == "dependency cycle: a -> b -> c -> a")
    }

    @Test func selfDependencyIsACycle() {
        let problem = only("study: s\nstages:\n  - {name: a, domain: study, run: x, after: [a]}\n")
        #expect(problem?.message == "dependency cycle: a -> a")
    }

    @Test(arguments: [
        ("study: ../etc", "study"),
        ("study: \"a b\"", "study"),
        ("study: ..", "study"),
        ("study: \"sub/01\"", "study"),
    ])
    func unsafeIdentifiers(_ line: String, _ field: String) {
        let text = line + "\nstages:\n  - {name: a, domain: study, run: x}\n"
        let problem = only(text)
        #expect(problem?.line == 1)
        #expect(problem?.field == field)
    }

    @Test func unsafeSubjectSessionAndStageNamesAreNamed() {
        let text = """
            study: s
            subjects: [ok, "bad;rm"]
            sessions: [".."]
            stages:
              - {name: "my stage", domain: session, run: x}
            """
        let found = problems(text)
        #expect(found.map(\.field) == ["subjects[1]", "sessions[0]", "stages[0].name"])
        #expect(found[0].message.contains("\"bad;rm\" contains ';'"))
        #expect(found[1].line == 3)
    }

    @Test func emptyRun() {
        #expect(only("study: s\nstages:\n  - name: a\n    domain: study\n    run: \"  \"\n")?.description
            == "job.yml:5: stages[0].run: is empty")
    }

    @Test func placeholderWithoutValueInDomain() {
        let problem = only("study: s\nsubjects: [a]\nstages:\n  - {name: a, domain: subject, run: \"x {session}\"}\n")
        #expect(problem?.message == "{session} has no value in a stage per subject")
    }

    @Test func badNumbersAreErrorsNotTraps() {
        let found = problems("""
            study: s
            stages:
              - {name: a, domain: study, run: x, cpus: 153722867280912931:0, memory: 1e400G}
              - {name: b, domain: study, run: x, cpus: -1, memory: 99999999999999999999T}
              - {name: c, domain: study, run: x, cpus: .nan, memory: "4 G"}
            """)
        #expect(found.map(\.field) == ["stages[0].cpus", "stages[0].memory", "stages[1].cpus", "stages[1].memory", "stages[2].cpus"])
    }

    @Test func memorySizes() {
        #expect(Quantity.bytes("4G") == 4 << 30)
        #expect(Quantity.bytes("512M") == 512 << 20)
        #expect(Quantity.bytes("1.5GiB") == 3 << 29)
        #expect(Quantity.bytes("100") == 100)
        #expect(Quantity.bytes("16GB") == 16 << 30)
        #expect(Quantity.bytes("G") == nil)
        #expect(Quantity.bytes("-1G") == nil)
    }

    @Test func sessionStageWithoutSessions() {
        let problem = only("study: s\nsubjects: [a]\nstages:\n  - {name: a, domain: session, run: x}\n")
        #expect(problem?.message == "stage \"a\" is per session, but the job lists no sessions")
    }

    @Test func raggedSessionsPerSubject() throws {
        let job = try JobLoader.load(text: """
            study: s
            sessions:
              sub-01: [pre, post]
              sub-02: [pre]
            stages:
              - {name: a, domain: session, run: x}
            """, file: "job.yml")
        #expect(job.subjects == [Subject(name: "sub-01", sessions: ["pre", "post"]), Subject(name: "sub-02", sessions: ["pre"])])
    }

    @Test func sessionsForUnknownSubject() {
        let problem = only("study: s\nsubjects: [sub-01]\nsessions:\n  sub-1: [a]\nstages:\n  - {name: a, domain: session, run: x}\n")
        #expect(problem?.description == "job.yml:4: sessions.sub-1: unknown subject \"sub-1\" (did you mean \"sub-01\"?)")
    }

    @Test func environmentNamesAreChecked() {
        let found = problems("study: s\nenv: {GOOD: 1, 2BAD: x, COHORT_STAGE: y}\nstages:\n  - {name: a, domain: study, run: x}\n")
        #expect(found.map(\.field) == ["env.2BAD", "env.COHORT_STAGE"])
    }

    @Test func environmentKeepsValuesAsWritten() throws {
        let job = try JobLoader.load(text: "study: s\nenv: {A: 010, B: yes, C: 1.50}\nstages:\n  - {name: a, domain: study, run: x}\n", file: "j")
        #expect(job.environment.map(\.value) == ["010", "yes", "1.50"])
    }

    @Test func nonTextKeysAndTagsAreRefused() {
        #expect(!problems("study: s\nenv: {[1]: 2}\nstages:\n  - {name: a, domain: study, run: x}\n").isEmpty)
        #expect(!problems("study: !!binary aGVsbG8=\nstages:\n  - {name: a, domain: study, run: x}\n").isEmpty)
        #expect(!problems("? [a]\n: b\n").isEmpty)
    }

    @Test func allProblemsAreReportedTogether() {
        let found = problems("""
            study: s
            subjects: [a]
            stages:
              - {name: one, domain: subjekt, run: x}
              - {name: two, domain: subject, run: "", cpus: zero}
              - {name: three, domain: subject, run: x, after: [fuor]}
            """)
        #expect(found.map(\.line) == [4, 5, 5, 6])
    }
}

/// Hostile input never crashes, hangs or exhausts the loader (NOTES-YAML).
@Suite struct HostileInputTests {
    func refused(_ text: String) -> JobFileProblem? {
        do {
            _ = try JobLoader.load(text: text, file: "job.yml")
            return nil
        } catch {
            return error.problems.first
        }
    }

    @Test func deepFlowNesting() {
        let problem = refused("study: " + String(repeating: "[", count: 10_000))
        #expect(problem?.message == "nesting deeper than 64 levels")
    }

    @Test func deepBlockNesting() {
        let problem = refused("study:\n" + String(repeating: "- ", count: 5_000) + "x\n")
        #expect(problem?.message == "nesting deeper than 64 levels")
    }

    @Test func aliasBomb() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...10 { text += "l\(level): &l\(level) [" + Array(repeating: "*\(level == 1 ? "a" : "l\(level - 1)")", count: 10).joined(separator: ", ") + "]\n" }
        #expect(refused(text)?.message == "YAML aliases (*name) are not supported in job files")
    }

    @Test func hugeInput() {
        let text = "study: s\nsubjects: [" + String(repeating: "a,", count: 600_000) + "]\n"
        #expect(refused(text)?.message.contains("limited to 1048576 bytes") == true)
    }

    @Test func emptyAndScalarDocuments() {
        #expect(refused("")?.message == "the file is empty")
        #expect(refused("just text")?.message == "expected a mapping (key: value), found a single value")
        #expect(refused("- a\n- b\n")?.message == "expected a mapping (key: value), found a list")
    }

    @Test func ordinaryNestingIsNotRefused() throws {
        // A realistic job with comments, quotes and brackets inside strings.
        let job = try JobLoader.load(text: """
            # comment with [[[[ brackets
            study: s   # trailing [ comment
            subjects: ["a", 'b']
            env: {MSG: "[[ [ { not nesting"}
            stages:
              - name: x
                domain: subject
                run: |
                  if [ -f "{subject}" ]; then
                    echo '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['
                  fi
            """, file: "job.yml")
        #expect(job.stages.count == 1)
        #expect(job.stages[0].command.contains("'[[[["))
    }

    @Test func nestingAfterABlockScalarIsStillCounted() {
        let text = "study: s\nnotes: |\n  text [[[[\nstages: " + String(repeating: "[", count: 100) + "\n"
        #expect(refused(text)?.message == "nesting deeper than 64 levels")
    }
}

/// The keys of scheduling policies (DESIGN §4, §7).
@Suite struct PolicyKeyTests {
    @Test func onPriorityAndLocksLoad() throws {
        let job = try JobLoader.load(text: """
            study: s
            stages:
              - name: a
                domain: study
                run: x
                on: gpu
                priority: -3
                locks: [atlas, {name: template, shared: true}]
            """, file: "job.yml")
        #expect(job.stages[0].on == "gpu")
        #expect(job.stages[0].priority == -3)
        #expect(job.stages[0].locks == [StageLock(name: "atlas"), StageLock(name: "template", shared: true)])
    }

    @Test func badPolicyValuesAreLocated() {
        do {
            _ = try JobLoader.load(text: """
                study: s
                stages:
                  - {name: a, domain: study, run: x, on: "g p u", priority: high}
                  - {name: b, domain: study, run: x, locks: [atlas, atlas, {name: t, shared: maybe}, {nam: q}]}
                """, file: "job.yml")
            Issue.record("expected problems")
        } catch {
            #expect(error.problems.map(\.field) == [
                "stages[0].on", "stages[0].priority", "stages[1].locks[2].shared", "stages[1].locks[3].nam",
                "stages[1].locks[3].name", "stages[1].locks",
            ])
        }
    }
}
