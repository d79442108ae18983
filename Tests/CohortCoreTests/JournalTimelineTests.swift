import CohortCore
import Testing

/// Attempts as spans of time, from the journal alone: what `cohort report` draws.
@Suite struct JournalTimelineTests {
    func attempt(_ name: String, rank: Int, at time: Double, number: Int = 1) -> JournalRecord.Attempt {
        JournalRecord.Attempt(instance: name, attempt: number, rank: rank, host: "n\(rank)", time: time)
    }

    @Test func spansLanesAndWhatAKilledRunLeftOpen() {
        let records: [JournalRecord] = [
            .runStarted(.init(jobHash: "h", host: "login", pid: 1, ranks: 3, time: 100)),
            .started(attempt("a:s1", rank: 1, at: 100)),
            .started(attempt("a:s2", rank: 1, at: 101)),
            .started(attempt("a:s3", rank: 2, at: 101)),
            .finished(attempt("a:s1", rank: 1, at: 105), .init(outcome: .succeeded, wallSeconds: 5, peakMemoryKiB: 7)),
            .started(attempt("b:s1", rank: 1, at: 105)),
            .finished(attempt("a:s2", rank: 1, at: 106), .init(outcome: .exited(2), wallSeconds: 5, peakMemoryKiB: 1)),
            .runEnded(reason: "finished", time: 107),
            // A second run, killed with a:s3's retry still running.
            .runStarted(.init(jobHash: "h", host: "login", pid: 2, ranks: 2, time: 200)),
            .started(attempt("a:s3", rank: 1, at: 201, number: 2)),
            .skipped(instance: "b:s2", cause: "a:s2", time: 230),
        ]
        let timeline = JournalTimeline(text: records.map(JournalFormat.encode).joined())
        #expect(timeline.runs.count == 2)
        let first = timeline.runs[0]
        #expect(first.ended && first.start == 100 && first.end == 107)
        // b:s1 and a:s3 (rank 2) were still open when the run recorded its end: cut there, unfinished.
        #expect(first.spans.map(\.instance).sorted() == ["a:s1", "a:s2", "a:s3", "b:s1"])
        let s1 = first.spans.first { $0.instance == "a:s1" }!
        #expect(s1.start == 100 && s1.end == 105 && s1.outcome == .succeeded && s1.peakMemoryKiB == 7)
        #expect(first.spans.first { $0.instance == "b:s1" }!.outcome == nil)
        #expect(first.spans.first { $0.instance == "b:s1" }!.end == 107)
        let (lanes, perRank) = JournalTimeline.lanes(of: first.spans)
        #expect(perRank == [1: 2, 2: 1], "rank 1 ran two at once, rank 2 one")
        let laneOf = Dictionary(uniqueKeysWithValues: zip(first.spans.map(\.instance), lanes))
        #expect(laneOf["a:s1"] != laneOf["a:s2"])
        #expect(laneOf["b:s1"] == laneOf["a:s1"], "b:s1 takes the lane a:s1 left")

        let second = timeline.runs[1]
        #expect(!second.ended && second.end == 230, "a killed run lasts to its last record")
        #expect(second.spans.count == 1 && second.spans[0].attempt == 2 && second.spans[0].end == 230)
    }

    /// A follow-on is journaled when it is queued behind the attempt running
    /// on its worker; it started when that one ended: its span is its wall time.
    @Test func aFollowOnsSpanStartsWhenItRanNotWhenItWasQueued() {
        let records: [JournalRecord] = [
            .runStarted(.init(jobHash: "h", host: "login", pid: 1, ranks: 2, time: 100)),
            .started(attempt("a:s1", rank: 1, at: 100)),
            .started(attempt("a:s2", rank: 1, at: 100.5)),
            .finished(attempt("a:s1", rank: 1, at: 101), .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 1)),
            .finished(attempt("a:s2", rank: 1, at: 102), .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 1)),
            .runEnded(reason: "finished", time: 102),
        ]
        let spans = JournalTimeline(text: records.map(JournalFormat.encode).joined()).runs[0].spans
        let follower = spans.first { $0.instance == "a:s2" }!
        #expect(follower.start == 101 && follower.end == 102)
        #expect(JournalTimeline.lanes(of: spans).lanesPerRank == [1: 1], "one slot, one lane")
    }

    /// A multi-node instance holds every worker of its gang: the report
    /// draws it on each, also when its run was killed while it ran.
    @Test func aMultiNodeAttemptIsASpanOnEachOfItsWorkers() throws {
        var gang = attempt("refine:s1", rank: 1, at: 100)
        gang.alsoRanks = [3, 2]
        #expect(try JournalFormat.decode(JournalFormat.encode(.started(gang)).dropLast()) == .started(gang))
        let records: [JournalRecord] = [
            .runStarted(.init(jobHash: "h", host: "login", pid: 1, ranks: 4, time: 100)),
            .workerJoined(rank: 1, host: "n1", cpus: 2, memory: 0, time: 100),
            .workerJoined(rank: 2, host: "n2", cpus: 2, memory: 0, time: 100),
            .workerJoined(rank: 3, host: "n3", cpus: 2, memory: 0, time: 100),
            .started(gang),
            .started(attempt("a:s1", rank: 2, at: 101)),
            .finished(attempt("refine:s1", rank: 1, at: 110), .init(outcome: .succeeded, wallSeconds: 10, peakMemoryKiB: 1)),
            .runEnded(reason: "finished", time: 111),
            .runStarted(.init(jobHash: "h", host: "login", pid: 2, ranks: 4, time: 200)),
            .workerJoined(rank: 2, host: "n2", cpus: 2, memory: 0, time: 200),
            .started(gang),
        ]
        let timeline = JournalTimeline(text: records.map(JournalFormat.encode).joined())
        let refine = timeline.runs[0].spans.filter { $0.instance == "refine:s1" }
        #expect(refine.map(\.rank).sorted() == [1, 2, 3])
        #expect(refine.map(\.host).sorted() == ["n1", "n2", "n3"])
        #expect(refine.allSatisfy { $0.start == 100 && $0.end == 110 && $0.outcome == .succeeded })
        #expect(refine.filter { !$0.heldOnly }.map(\.rank) == [1], "its module ran on the first")
        #expect(JournalTimeline.lanes(of: timeline.runs[0].spans).lanesPerRank[2] == 2, "a:s1 ran beside it on rank 2")
        let killed = timeline.runs[1].spans
        #expect(killed.map(\.rank).sorted() == [1, 2, 3] && killed.allSatisfy { $0.outcome == nil })
        #expect(killed.first { $0.rank == 2 }?.host == "n2" && killed.first { $0.rank == 3 }?.host == "?")
    }
}
