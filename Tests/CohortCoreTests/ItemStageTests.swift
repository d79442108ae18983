import CohortCore
import Testing

/// Item stages (DESIGN §8): the job file's side and the lists generators write.
@Suite struct ItemStageTests {
    static let cryoEM = """
        study: cryo
        subjects: [grid1]
        sessions: [s1, s2]
        stages:
          - name: import
            domain: session
            items: true
            run: ls raw/{subject}/{session}/*.tif > "$COHORT_ITEMS"
          - name: motioncorr
            foreach: import
            run: mc {item} {workdir}
          - name: ctf
            foreach: import
            run: ctf {item}
          - name: pick
            domain: session
            after: [ctf]
            run: pick {session}
        """

    func problems(_ text: String) -> [String] {
        do {
            _ = try JobLoader.load(text: text, file: "job.yml")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func aForeachStageTakesItsGeneratorsLevelAndWaitsForIt() throws {
        let job = try JobLoader.load(text: Self.cryoEM, file: "job.yml")
        #expect(job.stages.map(\.listsItems) == [true, false, false, false])
        #expect(job.stages.map(\.foreach) == [nil, 0, 0, nil])
        #expect(job.stages.map(\.domain) == [.session, .session, .session, .session])
        #expect(job.stages[1].dependencies == [0])
        #expect(job.stages[2].dependencies == [1, 0], "the previous stage (the same item) and always its generator")
        #expect(job.stages[3].dependencies == [2])
    }

    @Test func itemStageMistakesAreLocated() {
        func variant(_ replace: String, with text: String) -> [String] {
            problems(Self.cryoEM.replacingOccurrences(of: replace, with: text))
        }
        #expect(variant("foreach: import\n    run: mc", with: "foreach: imprt\n    run: mc")
                == ["job.yml:10: stages[1].foreach: unknown stage \"imprt\" (did you mean \"import\"?)"])
        #expect(variant("    items: true\n", with: "")
                == ["job.yml:9: stages[1].foreach: stage \"import\" lists no items; give it items: true (it writes them to $COHORT_ITEMS)",
                    "job.yml:12: stages[2].foreach: stage \"import\" lists no items; give it items: true (it writes them to $COHORT_ITEMS)"])
        #expect(variant("items: true", with: "items: maybe") == ["job.yml:7: stages[0].items: \"maybe\" is not true or false"])
        #expect(variant("  - name: ctf\n    foreach: import", with: "  - name: ctf\n    domain: session\n    foreach: import")
                == ["job.yml:13: stages[2].domain: a foreach stage runs once per item its generator lists, at the generator's level; remove domain"])
        #expect(variant("run: pick {session}", with: "run: pick {item}")
                == ["job.yml:18: stages[3].run: {item} has a value only in a foreach stage (one instance per item of a generator)"])
        #expect(variant("run: ctf {item}", with: "run: ctf {itme}").count == 1)
    }

    @Test func itemsWithinItemsAndItemsOfAnotherGeneratorAreRefused() {
        #expect(problems("""
            study: s
            stages:
              - {name: a, domain: study, items: true, run: x}
              - {name: b, foreach: a, items: true, run: y}
            """) == ["job.yml:4: stages[1].items: a foreach stage cannot list items itself (items within items are not supported)"])
        #expect(problems("""
            study: s
            stages:
              - {name: a, domain: study, items: true, run: x}
              - {name: b, domain: study, items: true, run: x}
              - {name: c, foreach: a, run: y}
              - {name: d, foreach: b, after: [c], run: z}
            """) == ["job.yml:6: stages[3].after: stage \"c\" runs per item of \"a\", this one per item of \"b\"; an item stage waits only on item stages of its own generator"])
    }

    @Test func aGeneratorsListIsRelativePathsOrNamesSpelledOneWay() throws {
        #expect(try ItemList.items(in: "raw/a.tif\n\n./raw//b.tif\r\nraw/a.tif\nmovie 3.tif\n").get() == ["raw/a.tif", "raw/b.tif", "movie 3.tif"])
        func problem(_ text: String) -> String? {
            if case .failure(let problem) = ItemList.items(in: text) { return problem.description }
            return nil
        }
        #expect(problem("a\n/etc/passwd\n") == "line 2: \"/etc/passwd\" is an absolute path; items are relative to the job folder")
        #expect(problem("raw/../../x\n") == "line 1: \"raw/../../x\" leaves the job folder ('..')")
        #expect(problem("ok\nbad\u{1b}[2J\n") == "line 2: \"bad\\u{1b}[2J\" holds a control character")
        #expect(problem("./\n") == "line 1: \"./\" names no file")
        #expect(try ItemList.items(in: "").get() == [], "a generator may find nothing")
    }
}
