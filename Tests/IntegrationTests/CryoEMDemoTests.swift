import CohortCore
import CohortTesting
import Testing

/// `jobs/cryoem` as the README runs it, and its streaming recipe: a movie
/// that arrives while the run goes on is aligned and picked (DESIGN §8).
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found (set CI=true to make this a failure)"))
struct CryoEMDemoTests {
    func folder(of job: String) -> String { String(job.dropLast("/job.yml".count)) }

    @Test func theDemoRunsEveryMovieAndPicksEverySession() throws {
        let job = try MPIHarness.copyJob("cryoem", repository: repository)
        let early = try ChildProcess.run([MPIHarness.cohort, "plan", job, "--only", "motioncorr:grid1:s1"])
        #expect(early.code == 2 && early.stderr.contains("import:grid1:s1 has not listed its items yet; select it too (--only import,motioncorr:grid1:s1)"),
                "nothing could run: said, not a silent success: \(early.output)")
        // As on a terminal: the progress block counts items found during the run.
        let result = try MPIHarness.run(ranks: 4, ["run", "--progress", "block", job])
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("All 21 instances done."), "4 imports, 6 movies twice, 4 picks, classes: \(result.stdout)")
        #expect(result.stdout.contains("21/21 done"), "the block's total grew with the items: \(result.stdout)")
        #expect(!result.stdout.contains("watching"), "every committed session is complete (DONE): nothing to watch")
        #expect(Files.read(folder(of: job) + "/out/classes/classes")
                == "grid1/s1 300\ngrid1/s2 100\ngrid2/s1 0\ngrid2/s2 200\ntotal 600\n")
        let forced = try ChildProcess.run([MPIHarness.cohort, "plan", job, "--force", "motioncorr"])
        #expect(forced.code == 0 && forced.stdout.contains("motioncorr: 0 done earlier, 6 to run (6 forced)"), "\(forced.output)")
    }

    @Test func aMovieArrivingWhileTheRunGoesOnIsAlignedAndPicked() throws {
        let job = try MPIHarness.copyJob("cryoem", repository: repository)
        let session = folder(of: job) + "/raw/grid1/s2"
        _ = try ChildProcess.run(["rm", session + "/DONE"])
        let run = try MPIHarness.start(ranks: 4, ["run", job])
        let aligned = Clock.waitUntil(timeout: 60) {
            Files.exists(folder(of: job) + "/out/motioncorr/grid1/s2/movie_001.tif/aligned")
        }
        #expect(aligned)
        #expect(!Files.exists(folder(of: job) + "/out/pick/grid1/s2/particles"), "the session waits for its watch's end")
        Files.write(session + "/movie_002.tif", "")
        Files.write(session + "/DONE", "")
        let result = run.wait(timeout: 60)
        #expect(result.code == 0, "\(result.output)")
        #expect(result.stdout.contains("watching import:grid1:s2: 1 new item; last look done, the watch ended")
                || result.stdout.contains("watching import:grid1:s2: 1 new item; looking again in 5s"), "\(result.stdout)")
        #expect(result.stdout.contains("All 23 instances done."), "\(result.stdout)")
        #expect(Files.read(folder(of: job) + "/out/pick/grid1/s2/particles") == "200\n")
    }
}
