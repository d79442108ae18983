import CohortCore
import Testing

/// The journal's snapshot and the fast reading paths: whatever way a
/// history is read, it says the same as reading every line of the journal.
@Suite struct JournalSnapshotTests {
    /// A journal of two runs over a small study: successes with lineage, a
    /// failure, an interrupted attempt, a skip, a force, a drain, a torn-free end.
    static func journal() -> [JournalRecord] {
        func attempt(_ name: String, _ number: Int, rank: Int = 1, host: String = "node01", logs: Bool = true) -> JournalRecord.Attempt {
            .init(instance: name, attempt: number, rank: rank, host: host, time: 1_795_000_000.5 + Double(number),
                  logs: logs ? "out/.attempts/\(name)/\(number)" : nil)
        }
        let lineage = SuccessLineage(definition: InstanceDefinition(run: 1, environment: 2, setup: 3, script: 4), stamp: 5, inputs: 6)
        return [
            .runStarted(.init(id: "00000000000000aa", jobHash: "j", host: "login", pid: 7, ranks: 3, time: 1, only: ["convert"],
                              subjects: ["sub-01"])),
            .studyTree(StudyTreeChange(source: "bids:data", new: [Subject(name: "sub-01", sessions: ["ses-1"]),
                                                                  Subject(name: "sub-02", sessions: ["ses-1", "ses-2"]),
                                                                  Subject(name: "sub-03", sessions: [""])],
                                       changed: [], gone: [], time: 1.5)),
            .started(attempt("convert:sub-01:ses-1", 1)),
            .finished(attempt("convert:sub-01:ses-1", 1), .init(outcome: .succeeded, wallSeconds: 2.5, peakMemoryKiB: 10, lineage: lineage)),
            .started(attempt("convert:sub-02:ses-1", 1, rank: 2, host: "node02")),
            .finished(attempt("convert:sub-02:ses-1", 1, rank: 2, host: "node02"),
                      .init(outcome: .exited(3), wallSeconds: 1, peakMemoryKiB: 20)),
            .skipped(instance: "group", cause: "convert:sub-02:ses-1", time: 3),
            .started(attempt("model:sub-01", 1)),
            .finished(attempt("model:sub-01", 1), .init(outcome: .couldNotStart("no room\tat all"), wallSeconds: 0, peakMemoryKiB: 0)),
            .drained(rank: 2, host: "node02", reason: "lost", time: 4),
            .runEnded(reason: "done", time: 5),
            .runStarted(.init(id: "00000000000000bb", jobHash: "j", host: "login", pid: 8, ranks: 3, time: 6)),
            .studyTree(StudyTreeChange(source: "bids:data", new: [Subject(name: "sub-04", sessions: [])],
                                       changed: [Subject(name: "sub-02", sessions: ["ses-2"])], gone: ["sub-03"], time: 6.2)),
            .forced(ForceRequest(stages: ["convert"], id: "f1"), time: 6.5),
            .started(attempt("convert:sub-02:ses-1", 2, logs: false)),
            .finished(attempt("convert:sub-02:ses-1", 2), .init(outcome: .signaled(9), wallSeconds: 3, peakMemoryKiB: 30)),
            .itemsListed(instance: "import:sub-01", attempt: 1, items: ["raw/m 1.tif", "m,2%.tif"], time: 6.7),
            .itemsListed(instance: "import:sub-02", attempt: 3, items: [], time: 6.8, watching: true),
            .itemsChanged(instance: "import:sub-01", attempt: 2, added: ["m3.tif"], removed: ["raw/m 1.tif"], time: 6.85, watching: true),
            .started(attempt("old:stage:with:colons", 1)),
            .finished(attempt("old:stage:with:colons", 1), .init(outcome: .succeeded, wallSeconds: 4, peakMemoryKiB: 1)),
            .started(attempt("model:sub-01", 2)),
        ]
    }

    static func text(_ records: [JournalRecord]) -> String { records.map(JournalFormat.encode).joined() }

    /// Everything a reader can observe of a history.
    static func expectSame(_ a: JournalHistory, _ b: JournalHistory, _ comment: Comment? = nil) {
        #expect(a.entries == b.entries, comment)
        #expect(a.runs == b.runs && a.lastRunEnded == b.lastRunEnded && a.lastRun == b.lastRun && a.lastRecordTime == b.lastRecordTime)
        #expect(a.forcesByID == b.forcesByID && a.recordCount == b.recordCount && a.lineCount == b.lineCount)
        #expect(a.studyTree == b.studyTree && a.itemLists == b.itemLists && a.watching == b.watching)
        #expect(a.damaged.map { "\($0.line) \($0.reason)" } == b.damaged.map { "\($0.line) \($0.reason)" })
    }

    func coverage(_ text: String) -> JournalSnapshot.Coverage {
        let bytes = Array(text.utf8)
        return .init(length: bytes.count, head: Array(bytes.prefix(64)), tail: Array(bytes.suffix(64)),
                     checksum: bytes.withUnsafeBufferPointer { CRC32.checksum($0) }, inode: 42)
    }

    @Test func aSnapshotDecodesToTheHistoryItWasMadeOf() throws {
        let text = Self.text(Self.journal()) + "cohort1\tend\tinstance=x\t#deadbeef\n"
        let history = JournalHistory(text: text)
        #expect(history.damaged.count == 1 && history.entries.count == 5, "the journal exercises what it should")
        let bytes = JournalSnapshot.encode(history, covering: coverage(text))
        let (decoded, covered) = try bytes.withUnsafeBufferPointer { bytes throws(JournalSnapshot.Unusable) in try JournalSnapshot.decode(bytes) }
        Self.expectSame(decoded, history)
        #expect(covered == coverage(text))
        #expect(decoded["convert:sub-01:ses-1"]?.forcePending == true, "its success was forced out of date")
        #expect(decoded["old:stage:with:colons"]?.success != nil, "a name with more colons than levels keeps them")
        #expect(decoded["convert:sub-09:ses-1"] == nil)
        #expect(decoded.itemLists == ["import:sub-01": ["m,2%.tif", "m3.tif"], "import:sub-02": []], "a look's change applied to the list")
        #expect(decoded.watching == ["import:sub-01", "import:sub-02"], "their watches went on after those successes")
        #expect(decoded.studyTree == RecordedTree(source: "bids:data", sessions: ["sub-01": ["ses-1"], "sub-02": ["ses-2"], "sub-04": []]))
    }

    @Test func aSnapshotThenTheRestOfTheJournalIsTheWholeJournal() throws {
        let records = Self.journal()
        for split in 0...records.count {
            let first = Self.text(Array(records[..<split]))
            let bytes = JournalSnapshot.encode(JournalHistory(text: first), covering: coverage(first))
            var (resumed, _) = try bytes.withUnsafeBufferPointer { bytes throws(JournalSnapshot.Unusable) in try JournalSnapshot.decode(bytes) }
            var rest = Self.text(Array(records[split...]))
            rest.withUTF8 { resumed.read($0) }
            Self.expectSame(resumed, JournalHistory(text: Self.text(records)), "split at record \(split)")
        }
    }

    @Test func aDamagedSnapshotIsRefused() {
        let text = Self.text(Self.journal())
        let bytes = JournalSnapshot.encode(JournalHistory(text: text), covering: coverage(text))
        func decodes(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBufferPointer { (try? JournalSnapshot.decode($0)) != nil }
        }
        #expect(decodes(bytes))
        #expect(!decodes(Array(bytes.dropLast())), "cut short")
        #expect(!decodes([]), "empty")
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        #expect(!decodes(flipped), "a flipped bit fails the checksum")
        #expect(!decodes(Array("cohort1\trun\t".utf8) + bytes.dropFirst(12)), "not a snapshot")
    }

    @Test func entriesFoundByGraphPlaceAreTheEntriesFoundByName() throws {
        let job = Job(study: "s", subjects: [Subject(name: "sub-01", sessions: ["ses-1", "ses-2"]), Subject(name: "sub-02", sessions: ["ses-1"])],
                      stages: [Stage(name: "convert", domain: .session, command: "true", dependencies: []),
                               Stage(name: "model", domain: .subject, command: "true", dependencies: [0]),
                               Stage(name: "group", domain: .study, command: "true", dependencies: [1])])
        let graph = try InstanceGraph(job: job)
        let history = JournalHistory(text: Self.text(Self.journal()))
        let found = history.entries(of: graph)
        var named = 0
        for index in 0..<graph.instanceCount {
            let instance = InstanceID(index)
            #expect(found[instance] == history[graph.name(of: instance)], "\(graph.name(of: instance))")
            if found[instance] != nil { named += 1 }
        }
        #expect(named == 4, "convert:sub-01:ses-1, convert:sub-02:ses-1, model:sub-01 and group are in the journal")
    }

    /// Histories are values: a copy that reads more records does not change
    /// what the original finds by name (they share a name index until then).
    @Test func aCopyThatReadsMoreLeavesTheOriginalAsItWas() throws {
        let text = Self.text(Self.journal())
        let bytes = JournalSnapshot.encode(JournalHistory(text: text), covering: coverage(text))
        let (original, _) = try bytes.withUnsafeBufferPointer { bytes throws(JournalSnapshot.Unusable) in try JournalSnapshot.decode(bytes) }
        var copy = original
        copy.apply(.started(.init(instance: "convert:sub-07:ses-1", attempt: 1, rank: 1, host: "h", time: 9)))
        #expect(copy["convert:sub-07:ses-1"]?.unfinished == true)
        #expect(original["convert:sub-07:ses-1"] == nil)
        #expect(original["model:sub-01"] == copy["model:sub-01"] && original["model:sub-01"] != nil)
    }

    @Test func aChecksumContinuesOverMoreBytes() {
        let whole = Array("cohort1\trun\tjob=x\n".utf8) + Array(repeating: 7, count: 1000)
        for split in [0, 1, 8, 9, 500, whole.count] {
            let first = whole[..<split].withUnsafeBufferPointer { CRC32.checksum($0) }
            let continued = whole[split...].withUnsafeBufferPointer { CRC32.checksum($0, continuing: first) }
            #expect(continued == whole.withUnsafeBufferPointer { CRC32.checksum($0) }, "split at \(split)")
        }
        #expect(Array("123456789".utf8).withUnsafeBufferPointer { CRC32.checksum($0) } == 0xCBF4_3926, "the CRC-32 check value")
    }

    @Test func fastNumberReadingMatchesTheSlowOne() throws {
        // Times the journal writes (6 decimals) are read from their digits; they must equal Double(String).
        for value in [0.0, 1.5, 1_795_000_000.123456, 1e-6, 123_456_789.999999, -2.25, 86_399.000001] {
            let attempt = JournalRecord.Attempt(instance: "a", attempt: 1, rank: 1, host: "h", time: value)
            let line = JournalFormat.encode(.started(attempt))
            guard case .started(let read) = try JournalFormat.decode(line.dropLast()) else { Issue.record("not a start"); continue }
            let text = line.split(separator: "\t").first { $0.hasPrefix("time=") }!.dropFirst(5)
            #expect(read.time == Double(text), "\(text)")
        }
    }
}
