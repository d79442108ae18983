import CohortCore
import CohortRun
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Subjects found on a real disk: links, file types, unreadable places.
@Suite struct DatasetReaderTests {
    func study(_ folder: String, _ jobText: String) throws -> Study {
        Files.write(folder + "/job.yml", jobText)
        return try Study(jobFile: folder + "/job.yml")
    }

    func problems(_ folder: String, _ jobText: String) -> String {
        do {
            _ = try study(folder, jobText)
            return ""
        } catch {
            return "\(error)"
        }
    }

    static let bidsJob = """
        study: b
        dataset: {bids: data}
        stages:
          - {name: convert, domain: session, run: x}
          - {name: group, domain: study, run: y}
        """

    @Test func aBIDSTreeOnDiskBecomesTheStudyTree() throws {
        let folder = try TemporaryFolder.make(prefix: "bids")
        defer { _ = try? ChildProcess.run(["rm", "-rf", folder]) }
        let outside = try TemporaryFolder.make(prefix: "bids-outside")
        defer { _ = try? ChildProcess.run(["rm", "-rf", outside]) }
        for path in ["sub-01/ses-a/anat", "sub-01/ses-b", "sub-02/anat", "derivatives/sub-99", ".git/sub-98", "elsewhere/sub-05/ses-x"] {
            Files.makeFolder(folder + "/data/" + path)
        }
        Files.write(folder + "/data/sub-03", "a file, not a subject")
        Files.write(folder + "/data/sub-01/ses-c", "a file, not a session")
        symlink(outside, folder + "/data/sub-04")            // out of the dataset
        symlink("elsewhere/sub-05", folder + "/data/sub-05")  // inside it: a subject
        symlink("/nonexistent", folder + "/data/sub-06")      // dangling
        let opened = try study(folder, Self.bidsJob)
        #expect(opened.job.subjects == [Subject(name: "sub-01", sessions: ["ses-a", "ses-b"]),
                                        Subject(name: "sub-02", sessions: [""]),
                                        Subject(name: "sub-05", sessions: ["ses-x"])])
        #expect(opened.datasetWarnings.count == 2)
        #expect(opened.datasetWarnings.first?.hasPrefix("\(folder)/data/sub-04: warning: a link out of the dataset") == true,
                "\(opened.datasetWarnings)")
        #expect(opened.datasetWarnings.last == "\(folder)/data/sub-06: warning: a link to nothing; not a subject, not run")
        #expect(opened.graph.name(of: InstanceID(2)) == "convert:sub-02", "an implicit session adds nothing to the name")
        #expect(opened.taskFactory().instanceFolder(of: InstanceID(2)).hasSuffix("/out/convert/sub-02/no-session"),
                "beside any session the subject may gain, never around it")
    }

    @Test func aMissingDatasetOrSubjectsFileRefusesTheJobAtItsLine() throws {
        let folder = try TemporaryFolder.make(prefix: "bids-missing")
        defer { _ = try? ChildProcess.run(["rm", "-rf", folder]) }
        #expect(problems(folder, Self.bidsJob) == "\(folder)/job.yml:2: dataset.bids: \(folder)/data: No such file or directory")
        Files.write(folder + "/data", "not a folder")
        #expect(problems(folder, Self.bidsJob) == "\(folder)/job.yml:2: dataset.bids: \(folder)/data: not a folder")
        let fileJob = """
            study: f
            subjects: {file: lists/subjects.txt}
            stages:
              - {name: a, domain: subject, run: x}
            """
        #expect(problems(folder, fileJob).hasPrefix("\(folder)/job.yml:2: subjects.file: \(folder)/lists/subjects.txt: cannot open"))
        Files.write(folder + "/lists/subjects.txt", "s1\ns 2\n")
        #expect(problems(folder, fileJob) == "\(folder)/lists/subjects.txt:2: subject \"s 2\" contains a space; use only letters, digits, '.', '_' and '-'")
        Files.write(folder + "/lists/subjects.txt", "s1\ns2\n")
        #expect(try study(folder, fileJob).job.subjects.map(\.name) == ["s1", "s2"])
        Files.write(folder + "/lists/subjects.txt", "# nobody yet\n")
        #expect(problems(folder, fileJob) == "\(folder)/job.yml:2: subjects.file: \(folder)/lists/subjects.txt: no subjects")
    }

    /// An empty mount point, or a participants.tsv that cannot be read (an
    /// annexed file not fetched): refused, never a study of nothing or of
    /// every folder.
    @Test func anEmptyDatasetOrAnUnreadableTableRefusesTheJob() throws {
        let folder = try TemporaryFolder.make(prefix: "bids-empty")
        defer { _ = try? ChildProcess.run(["rm", "-rf", folder]) }
        Files.makeFolder(folder + "/data/derivatives/sub-01")
        #expect(problems(folder, Self.bidsJob) == "\(folder)/job.yml:2: dataset.bids: \(folder)/data: no subjects (no sub-* folders)")
        Files.makeFolder(folder + "/data/sub-01")
        symlink(".git/annex/objects/xx/participants.tsv", folder + "/data/participants.tsv")
        #expect(problems(folder, Self.bidsJob).hasPrefix("\(folder)/job.yml:2: dataset.bids: \(folder)/data/participants.tsv: cannot open"),
                "\(problems(folder, Self.bidsJob))")
    }

    /// 10^5 subject folders load whole (how fast: bench/dataset.sh).
    @Test func aHundredThousandSubjects() throws {
        let folder = try TemporaryFolder.make(prefix: "bids-large")
        defer { _ = try? ChildProcess.run(["rm", "-rf", folder]) }
        let count = 100_000
        Files.makeFolder(folder + "/data")
        var table = "participant_id\n"
        for index in 0..<count {
            let name = "sub-" + String(index)
            mkdir(folder + "/data/" + name, 0o755)
            if index % 1000 == 0 { mkdir(folder + "/data/" + name + "/ses-1", 0o755) }
            if index != 7 { table += name + "\n" }
        }
        Files.write(folder + "/data/participants.tsv", table)
        let opened = try study(folder, Self.bidsJob)
        #expect(opened.job.subjects.count == count - 1)
        #expect(opened.job.subjects.filter { $0.sessions == ["ses-1"] }.count == count / 1000)
        #expect(opened.datasetWarnings == ["\(folder)/data/sub-7: warning: no row in participants.tsv; not run"])
        #expect(opened.graph.instanceCount == count - 1 + 1)
    }
}

