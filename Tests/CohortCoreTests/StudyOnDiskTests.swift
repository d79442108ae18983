import CohortCore
import Testing

/// Subjects found on disk (DESIGN §8): the rules, without the disk.
@Suite struct StudyOnDiskTests {
    typealias Entry = BIDSLayout.Entry
    typealias SubjectEntry = BIDSLayout.SubjectEntry

    func layout(_ subjects: [SubjectEntry], participants: String? = nil) -> (subjects: [Subject], warnings: [String]) {
        BIDSLayout.subjects(in: BIDSLayout.Listing(root: "bids", subjects: subjects, participants: participants))
    }

    @Test func sessionsAreSesFoldersAndASubjectWithoutAnyHasOneEmptySession() {
        let (subjects, warnings) = layout([
            SubjectEntry(Entry("sub-10"), sessions: [Entry("ses-post"), Entry("ses-pre")]),
            SubjectEntry(Entry("sub-02")),
            SubjectEntry(Entry("sub-03"), sessions: [Entry("ses-1", .other)]),
        ])
        #expect(warnings.isEmpty)
        #expect(subjects == [Subject(name: "sub-02", sessions: [""]), Subject(name: "sub-03", sessions: [""]),
                             Subject(name: "sub-10", sessions: ["ses-post", "ses-pre"])])
    }

    @Test func participantsTSVDecidesWhichFoldersAreSubjectsAndEachDisagreementIsALocatedWarning() {
        let table = "participant_id\tage\r\nsub-01\t30\r\n02\t31\r\nsub-07\t40\r\nsub-01\t30\r\n\t22\r\n"
        let (subjects, warnings) = layout([SubjectEntry(Entry("sub-01")), SubjectEntry(Entry("sub-02")), SubjectEntry(Entry("sub-09"))],
                                          participants: "\u{FEFF}" + table)
        #expect(subjects.map(\.name) == ["sub-01", "sub-02"], "a row without the sub- prefix still names its folder")
        #expect(warnings == [
            "bids/sub-09: warning: no row in participants.tsv; not run",
            "bids/participants.tsv:4: warning: \"sub-07\" has no folder bids/sub-07; not run",
            "bids/participants.tsv:5: warning: \"sub-01\" has a row already",
            "bids/participants.tsv:6: warning: no participant_id in this row",
        ], "folders left out first: that is data not run")
    }

    @Test func aTableWithoutParticipantIdIsIgnoredWithAWarning() {
        let (subjects, warnings) = layout([SubjectEntry(Entry("sub-01"))], participants: "id\tage\nsub-01\t3\n")
        #expect(subjects.map(\.name) == ["sub-01"])
        #expect(warnings == ["bids/participants.tsv:1: warning: no participant_id column in the header; every sub-* folder is a subject"])
    }

    @Test func hostileNamesAndLinksOutOfTheDatasetAreLeftOutWithAWarning() {
        let (subjects, warnings) = layout([
            SubjectEntry(Entry("sub-a b")),
            SubjectEntry(Entry("sub-\u{1b}[2J")),
            SubjectEntry(Entry("sub-x", .outside(target: "/etc"))),
            SubjectEntry(Entry("sub-ok"), sessions: [Entry("ses-up", .outside(target: "/tmp")), Entry("ses-1")]),
            SubjectEntry(Entry("sub-gone", .dangling)),
            SubjectEntry(Entry("sub-locked", .unreadable("Permission denied"))),
        ], participants: "participant_id\nsub-../x\nsub-ok\n\"sub-x\"\n")
        #expect(subjects == [Subject(name: "sub-ok", sessions: ["ses-1"])])
        #expect(warnings.count == 8, "\(warnings)")
        #expect(warnings.contains("bids/sub-locked: warning: cannot list it (Permission denied); not run"),
                "never taken for a subject without sessions")
        #expect(warnings.contains("bids/sub-gone: warning: a link to nothing; not a subject, not run"))
        #expect(warnings.contains("bids/participants.tsv:4: warning: \"sub-x\": its folder is left out (above); not run"),
                "a quoted value names its folder, which was left out for a reason given above")
        #expect(warnings.contains("bids/participants.tsv:2: warning: \"sub-../x\" has no folder bids/sub-../x; not run"))
        #expect(warnings.contains { $0.hasPrefix("bids/sub-a b: warning: not usable as a subject name") })
        #expect(warnings.contains { $0.contains("a control character") && !$0.contains("\u{1b}") }, "control characters never reach the terminal")
        #expect(warnings.contains("bids/sub-x: warning: a link out of the dataset (to \"/etc\"); not a subject, not run"))
        #expect(warnings.contains("bids/sub-ok/ses-up: warning: a link out of the dataset (to \"/tmp\"); not a session, not run"))
    }

    @Test func aSubjectWhoseSessionsAreAllUnusableIsLeftOutNotRunWithoutSessions() {
        let (subjects, warnings) = layout([
            SubjectEntry(Entry("sub-01"), sessions: [Entry("ses-a b"), Entry("ses-x", .outside(target: "/mnt")), Entry("ses-y", .dangling)]),
            SubjectEntry(Entry("sub-02"), sessions: [Entry("ses-1")]),
        ])
        #expect(subjects == [Subject(name: "sub-02", sessions: ["ses-1"])])
        #expect(warnings.last == "bids/sub-01: warning: none of its 3 ses-* entries is a usable session; not run", "\(warnings)")
    }

    @Test func aSubjectsFileIsOneNamePerLineAndItsMistakesAreRefusedWithTheirLines() {
        let good = SubjectList.names(in: "participant_id\tage\r\n# pilot excluded\n\nP01\t30\n  P02  \nP10\n")
        #expect(good.names == ["P01", "P02", "P10"])
        #expect(good.problems.isEmpty)
        let bad = SubjectList.names(in: "P01\nP 02\nP01\n../etc\n")
        #expect(bad.problems.map(\.line) == [2, 3, 4])
        #expect(bad.problems[1].message == "subject \"P01\" is listed twice (line 1 too)")
        let table = SubjectList.names(in: "# exported 2026-11-01\nage\tparticipant_id\n31\tsub-01\n40\tsub-02\n")
        #expect(table.names == ["sub-01", "sub-02"], "the header after a comment names the column")
    }

    @Test func theJobFileSaysWhereSubjectsComeFrom() throws {
        let bids = try JobLoader.load(text: """
            study: s
            dataset: {bids: data/bids}
            stages:
              - {name: a, domain: session, run: x}
            """, file: "job.yml")
        #expect(bids.subjectSource == .bids(path: "data/bids", line: 2))
        #expect(bids.subjects.isEmpty)
        let file = try JobLoader.load(text: """
            study: s
            subjects: {file: participants.txt}
            sessions: [pre, post]
            stages:
              - {name: a, domain: session, run: x}
            """, file: "job.yml")
        #expect(file.subjectSource == .file(path: "participants.txt", line: 2, sessions: ["pre", "post"]))
    }

    @Test func mixingOrMisspellingSubjectSourcesIsALocatedProblem() {
        #expect(loadingProblems("""
            study: s
            subjects: [a]
            dataset: {bids: data}
            stages:
              - {name: a, domain: subject, run: x}
            """) == ["job.yml:3: dataset: give either dataset or subjects, not both (a BIDS dataset's subjects are its sub-* folders)"])
        #expect(loadingProblems("""
            study: s
            dataset: {bids: data}
            sessions: [a]
            stages:
              - {name: a, domain: subject, run: x}
            """) == ["job.yml:3: sessions: a BIDS dataset's sessions are the ses-* folders of each subject; remove sessions"])
        #expect(loadingProblems("""
            study: s
            dataset: {bdis: data}
            stages:
              - {name: a, domain: subject, run: x}
            """) == ["job.yml:2: dataset.bdis: unknown key (did you mean \"bids\"?) (dataset: {bids: path/to/bids})"])
        #expect(loadingProblems("""
            study: s
            subjects: {file: list.txt}
            stages:
              - {name: a, domain: session, run: x}
            """) == ["job.yml:4: stages[0].domain: stage \"a\" is per session, but the job lists no sessions"])
        #expect(loadingProblems("""
            study: s
            subjects: {file: ""}
            sessions: {a: [x]}
            stages:
              - {name: a, domain: subject, run: x}
            """).count == 2)
    }

    @Test func theTreeARunRecordsIsWhatChangedSinceTheLastRecordedOne() {
        let before = [Subject(name: "sub-01", sessions: ["a"]), Subject(name: "sub-02", sessions: [""]), Subject(name: "sub-03", sessions: [""])]
        let first = StudyTreeChange.between(recorded: nil, now: before, source: "bids:data", time: 1)
        #expect(first?.new == before && first?.gone == [] && first?.changed == [])
        var recorded = JournalHistory()
        if let first { recorded.apply(.studyTree(first)) }
        #expect(StudyTreeChange.between(recorded: recorded.studyTree, now: before, source: "bids:data", time: 2) == nil, "nothing to record")
        let moved = StudyTreeChange.between(recorded: recorded.studyTree, now: before, source: "bids:elsewhere", time: 2)
        #expect(moved?.source == "bids:elsewhere" && moved?.summary == nil, "the same subjects from another place")

        let after = [Subject(name: "sub-01", sessions: ["a", "b"]), Subject(name: "sub-03", sessions: [""]), Subject(name: "sub-04", sessions: [""])]
        let change = StudyTreeChange.between(recorded: recorded.studyTree, now: after, source: "bids:data", time: 3)
        #expect(change?.new.map(\.name) == ["sub-04"])
        #expect(change?.changed == [Subject(name: "sub-01", sessions: ["a", "b"])])
        #expect(change?.gone == ["sub-02"])
        #expect(change?.summary == "subjects since the last run: 1 new (sub-04), 1 with other sessions (sub-01), 1 gone (sub-02; results left on disk)")
        // As the journal writes and reads it.
        let line = change.map { JournalFormat.encode(.studyTree($0)) } ?? ""
        #expect(line.contains("\tnew=sub-04/\t") && line.contains("\tchanged=sub-01/a/b\t") && line.contains("\tgone=sub-02\t"), "\(line)")
        #expect((try? JournalFormat.decode(Substring(line.dropLast()))) == change.map { .studyTree($0) })
        recorded.apply(.studyTree(change!))
        #expect(recorded.studyTree?.sessions == ["sub-01": ["a", "b"], "sub-03": [""], "sub-04": [""]])
    }
}
