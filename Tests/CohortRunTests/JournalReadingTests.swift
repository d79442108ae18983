import CohortCore
import CohortRun
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Reading a study's history from disk through its snapshot: used only
/// while the journal still holds what the snapshot covers.
@Suite struct JournalReadingTests {
    let records = (1...40).flatMap { index -> [JournalRecord] in
        let attempt = JournalRecord.Attempt(instance: "convert:sub-\(index)", attempt: 1, rank: 1, host: "node01", time: Double(index))
        return [.started(attempt), .finished(attempt, .init(outcome: index % 7 == 0 ? .exited(1) : .succeeded, wallSeconds: 1, peakMemoryKiB: 1))]
    }

    func text(_ range: Range<Int>) -> String { records[range].map(JournalFormat.encode).joined() }

    func paths() throws -> (journal: String, snapshot: String) {
        let folder = try TemporaryFolder.make(prefix: "reading")
        return (folder + "/journal", folder + "/snapshot")
    }

    func expectSame(_ read: JournalReading.Read?, _ text: String, _ comment: Comment? = nil) {
        let whole = JournalHistory(text: text)
        #expect(read?.history.entries == whole.entries, comment)
        #expect(read?.history.recordCount == whole.recordCount && read?.history.lineCount == whole.lineCount, comment)
    }

    @Test func noJournalIsNoHistory() throws {
        let (journal, snapshot) = try paths()
        #expect(JournalReading.read(journal: journal, snapshot: snapshot) == nil)
    }

    @Test func aSnapshotSparesReadingWhatItCovers() throws {
        let (journal, snapshot) = try paths()
        Files.write(journal, text(0..<50))
        let first = try #require(JournalReading.read(journal: journal, snapshot: snapshot))
        #expect(first.parsedBytes == text(0..<50).utf8.count, "no snapshot yet: the whole journal is parsed")
        #expect(JournalReading.writeSnapshot(first, to: snapshot))
        let again = JournalReading.read(journal: journal, snapshot: snapshot)
        #expect(again?.parsedBytes == 0, "the snapshot covers it all")
        expectSame(again, text(0..<50))

        Files.write(journal, text(0..<80))  // the run went on
        let later = JournalReading.read(journal: journal, snapshot: snapshot)
        #expect(later?.parsedBytes == text(50..<80).utf8.count, "only the lines after the snapshot are parsed")
        expectSame(later, text(0..<80))
    }

    @Test func aSnapshotThatDisagreesWithTheJournalIsIgnored() throws {
        let (journal, snapshot) = try paths()
        Files.write(journal, text(0..<50))
        #expect(JournalReading.writeSnapshot(try #require(JournalReading.read(journal: journal, snapshot: snapshot)), to: snapshot))

        // Replaced by a longer journal with other records where the snapshot's end was.
        let other = text(1..<80)
        Files.write(journal, other)
        let replaced = JournalReading.read(journal: journal, snapshot: snapshot)
        #expect(replaced?.parsedBytes == other.utf8.count, "read whole")
        expectSame(replaced, other)

        // Cut shorter than the snapshot.
        Files.write(journal, text(0..<20))
        expectSame(JournalReading.read(journal: journal, snapshot: snapshot), text(0..<20))

        // A garbled snapshot.
        Files.write(journal, text(0..<50))
        Files.write(snapshot, "cohort-snapshot1\nnot really")
        let garbled = JournalReading.read(journal: journal, snapshot: snapshot)
        #expect(garbled?.parsedBytes == text(0..<50).utf8.count)
        expectSame(garbled, text(0..<50))
    }

    /// A stretch misread once (an NFS page not yet written back shows as
    /// zeros) must not be kept in a snapshot: a later read, of the same
    /// bytes written back, sees the journal as it is.
    @Test func aMisreadIsNeverSnapshotted() throws {
        let (journal, snapshot) = try paths()
        let good = text(0..<60)
        var bytes = Array(good.utf8)
        for index in (bytes.count / 2)..<(bytes.count / 2 + 40) { bytes[index] = 0 }
        Files.write(journal, String(decoding: bytes, as: UTF8.self))
        let misread = try #require(JournalReading.read(journal: journal, snapshot: snapshot))
        #expect(misread.newDamage && !misread.history.damaged.isEmpty)
        #expect(!JournalReading.writeSnapshot(misread, to: snapshot), "no snapshot of a read with damage in it")
        Files.write(journal, good)
        let later = JournalReading.read(journal: journal, snapshot: snapshot)
        #expect(later?.history.damaged.isEmpty == true)
        expectSame(later, good)
    }

    /// A snapshot whose first and last bytes still match but whose middle
    /// no longer does: a run (verifying) reads the journal whole.
    @Test func aRunChecksTheWholeStretchASnapshotCovers() throws {
        let (journal, snapshot) = try paths()
        Files.write(journal, text(0..<60))
        #expect(JournalReading.writeSnapshot(try #require(JournalReading.read(journal: journal, snapshot: snapshot)), to: snapshot))
        // Same length, same head and tail, another record in the middle.
        let other = records[0..<60].map { record -> JournalRecord in
            guard case .started(var attempt) = record, attempt.instance == "convert:sub-2" else { return record }
            attempt.instance = "convert:sub-9"
            return .started(attempt)
        }
        let edited = other.map(JournalFormat.encode).joined()
        #expect(edited.utf8.count == text(0..<60).utf8.count && edited != text(0..<60))
        Files.write(journal, edited)
        let verified = JournalReading.read(journal: journal, snapshot: snapshot, verifying: true)
        #expect(verified?.parsedBytes == edited.utf8.count, "the snapshot is not trusted")
        expectSame(verified, edited)
        // The journal file of a run checks it too.
        let history = try JournalFile(path: journal).readHistory(snapshot: snapshot)
        #expect(history.entries == JournalHistory(text: edited).entries)
    }

    /// `sed -i` on the journal (a new file renamed into place): even a
    /// reader that does not check the CRC reads the journal whole.
    @Test func aJournalEditedIntoANewFileIsReadWhole() throws {
        let (journal, snapshot) = try paths()
        Files.write(journal, text(0..<60))
        #expect(JournalReading.writeSnapshot(try #require(JournalReading.read(journal: journal, snapshot: snapshot)), to: snapshot))
        let edited = text(0..<60).replacingOccurrences(of: "outcome=ok", with: "outcome=OK")
        Files.write(journal + ".sed", edited)
        #expect(rename(journal + ".sed", journal) == 0)
        let read = JournalReading.read(journal: journal, snapshot: snapshot)
        #expect(read?.parsedBytes == edited.utf8.count, "the snapshot is of another file")
        #expect(read?.history.damaged.isEmpty == false, "the edit shows as damage")
    }

    @Test func halfWrittenSnapshotsAreRemoved() throws {
        let (journal, snapshot) = try paths()
        let folder = String(journal.dropLast("/journal".count))
        Files.write(snapshot + ".new.123.456", "half")
        Files.write(snapshot, "kept")
        Files.write(journal, "kept")
        JournalReading.removeUnfinishedSnapshots(in: folder)
        #expect(!Files.exists(snapshot + ".new.123.456"))
        #expect(Files.exists(snapshot) && Files.exists(journal))
    }

    /// `cohort status` leaves the snapshot to a run that holds the study.
    @Test func statusWritesNoSnapshotWhileARunHoldsTheStudy() throws {
        let folder = try TemporaryFolder.make(prefix: "status-snapshot")
        Files.write(folder + "/job.yml", "study: s\nsubjects: [a]\nstages:\n  - {name: convert, domain: subject, run: 'true'}\n")
        let study = try Study(jobFile: folder + "/job.yml")
        try study.state.create()
        // More than a megabyte of journal: worth a snapshot.
        var big = ""
        for index in 0..<20_000 {
            let attempt = JournalRecord.Attempt(instance: "convert:s\(index)", attempt: 1, rank: 1, host: "node01", time: 1)
            big += JournalFormat.encode(.started(attempt))
        }
        Files.write(study.state.journal, big)
        let (lock, _) = try RunLock.acquire(path: study.state.lock, owner: "test")
        _ = study.history(refreshingSnapshot: true)
        #expect(!Files.exists(study.state.snapshot), "a run holds the study")
        lock.release()
        _ = study.history(refreshingSnapshot: true)
        #expect(Files.exists(study.state.snapshot), "no run: status may leave one")
    }

    @Test func aTornLastLineIsNeitherCoveredNorSnapshotted() throws {
        let (journal, snapshot) = try paths()
        let whole = text(0..<30)
        let torn = String(JournalFormat.encode(records[30]).prefix(25))
        Files.write(journal, whole + torn)
        let read = try #require(JournalReading.read(journal: journal, snapshot: snapshot))
        #expect(read.history.endsTorn)
        #expect(read.coverage.length == whole.utf8.count, "whole lines only")
        #expect(!JournalReading.writeSnapshot(read, to: snapshot))
        #expect(!Files.exists(snapshot))

        // The run that opens it cuts the torn line off (and reports it); the next read snapshots.
        let file = try JournalFile(path: journal)
        let history = try file.readHistory(snapshot: snapshot)
        #expect(history.endsTorn, "it still reports what it set aside")
        #expect(Files.read(journal) == whole)
        let next = try #require(JournalReading.read(journal: journal, snapshot: snapshot))
        #expect(!next.history.endsTorn)
        expectSame(next, whole)
        #expect(JournalReading.writeSnapshot(next, to: snapshot))
        #expect(JournalReading.read(journal: journal, snapshot: snapshot)?.parsedBytes == 0)
    }
}
