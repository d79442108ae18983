@testable import CohortRun
import CohortCore
import CohortTesting
import Testing

/// The live progress's counts, ETA and block, without a terminal.
@Suite struct ProgressBoardTests {
    func board() throws -> ProgressBoard {
        let job = JobFixtures.job([("prep", .subject, []), ("group", .study, [0])])
        let graph = try InstanceGraph(job: job)
        let plan = ResumePlan(graph: graph, history: JournalHistory(), definitions: Definitions(graph: graph))
        var board = ProgressBoard(outlook: RunOutlook(plan: plan, graph: graph), earlierMedians: [nil, 100])
        board.cpus = 2
        return board
    }

    @Test func countsFollowStartsEndsRetriesAndSkips() throws {
        var board = try board()
        board.started("prep:sub-01")
        board.started("prep:sub-02")
        #expect(board.total.running == 2)
        board.finished("prep:sub-01", outcome: .succeeded, wallSeconds: 10)
        board.finished("prep:sub-02", outcome: .exited(1), wallSeconds: 1)
        #expect(board.total.failed == 1)
        board.retrying("prep:sub-02")
        #expect(board.total.failed == 0, "a retried failure is not final")
        board.started("prep:sub-02")
        board.finished("prep:sub-02", outcome: .interrupted, wallSeconds: 1)
        #expect(board.total.failed == 0 && board.total.running == 0, "interrupted is neither done nor failed")
        board.skipped("group")
        #expect(board.total.skipped == 1)
        #expect(board.line() == "progress: 1 of 4 done, 0 running, 0 failed, 1 skipped; ETA 10s")
    }

    /// What is left, at each stage's typical duration, spread over the cpus;
    /// never less than the longest single instance left.
    /// Items and looks found during the run grow the totals; the block never
    /// draws a negative count (it crashed rank 0 when done outgrew the total).
    @Test func workFoundDuringTheRunGrowsTheTotals() throws {
        var board = try board()
        let planned = board.total.total
        for number in 1...5 {
            board.started("prep:x\(number)")
            board.finished("prep:x\(number)", outcome: .succeeded, wallSeconds: 1)
        }
        _ = board.block(elapsed: 1, columns: 80, lines: 20)  // more done than planned: drawn, clamped
        board.added(3, toStage: "prep")
        #expect(board.total.total == planned + 3)
        board.added(1, toStage: "nothing")
        #expect(board.total.total == planned + 3, "an unknown stage adds nothing")
    }

    @Test func theETAComesFromMeasuredAndEarlierDurations() throws {
        var board = try board()
        // prep's duration is unknown: it takes the median of what is known (group's 100 s): (3 + 1) × 100 s / 2 cpus.
        #expect(board.eta == 200)
        board.started("prep:sub-01")
        board.finished("prep:sub-01", outcome: .succeeded, wallSeconds: 30)
        // prep: 2 left × 30 s, group: 1 × 100 s, over 2 cpus = 80 s; group alone takes 100 s.
        #expect(board.eta == 100)
        board.rows[1].earlierMedian = 10
        #expect(board.eta == 35, "(2 × 30 + 10) / 2")
    }

    @Test func theBlockHasABarPerStageAndTheWholeRun() throws {
        var board = try board()
        board.finished("prep:sub-01", outcome: .succeeded, wallSeconds: 30)
        board.finished("prep:sub-02", outcome: .exited(2), wallSeconds: 1)
        let block = board.block(elapsed: 65)
        #expect(block.count == 4)
        #expect(block[0] == "  elapsed 1m05s, ETA 1m40s", "group's 100 s is the longest left: \(block)")
        #expect(block[1].hasPrefix("  prep   [######xxxxxxx-------]  "), "a third done, a third failed: \(block)")
        board.finished("prep:sub-03", outcome: .succeeded, wallSeconds: 30)
        #expect(!board.block(elapsed: 66)[1].contains("-]"), "nothing left: the bar is full")
        #expect(block[1].contains("1/3 done, 0 running, 1 failed, 0 skipped"), "\(block)")
        #expect(block[3].hasPrefix("  all    ["))
        #expect(block.allSatisfy { $0.count < 80 }, "fits 80 columns: \(block)")
        #expect(!block.joined().contains("\u{1b}"), "the board draws no escape codes itself")
    }

    /// A line wider than the terminal would wrap and break the redraw;
    /// more stages than lines would scroll it away.
    @Test func theBlockFitsTheTerminal() throws {
        var board = try board()
        board.finished("prep:sub-01", outcome: .succeeded, wallSeconds: 30)
        let narrow = board.block(elapsed: 5, columns: 40, lines: 3)
        #expect(narrow.count == 3, "the times, one stage and the whole run: \(narrow)")
        #expect(narrow.allSatisfy { $0.count < 40 }, "\(narrow)")
        #expect(narrow.last!.hasPrefix("  all "))
        #expect(narrow[1].hasPrefix("  prep "), "the stage with work left comes first")
    }

    @Test func theETACountsTheCpusAnInstanceHolds() throws {
        let job = JobFixtures.job([("fat", .subject, [])], cpus: ["fat": 4])
        let graph = try InstanceGraph(job: job)
        let plan = ResumePlan(graph: graph, history: JournalHistory(), definitions: Definitions(graph: graph))
        var board = ProgressBoard(outlook: RunOutlook(plan: plan, graph: graph), earlierMedians: [10], cpus: [4])
        board.cpus = 4
        #expect(board.eta == 30, "3 instances of 4 cpus on 4 cpus run one at a time: 3 × 10 s")
    }
}
