import CohortCore
import CohortTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `cohort report`: a self-contained HTML page that a real headless browser
/// loads without errors and draws, and a Chrome trace of the right shape;
/// from the journal at any moment, also mid-run.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct ReportTests {
    func folder(of job: String) -> String { String(job.dropLast("/job.yml".count)) }

    @Test func thePageLoadsInABrowserAndDrawsTheTimelineAndTheTraceIsValid() throws {
        let job = try MPIHarness.writeJob("""
            study: reported
            subjects: [a, b, c]
            stages:
              - {name: prep, domain: subject, run: 'sleep 0.2'}
              - {name: fit, domain: subject, run: 'sleep 0.2; [ {subject} != b ] || { echo "</script><b>x" >&2; exit 2; }'}
            """)
        #expect(try MPIHarness.run(ranks: 3, ["run", job, "--slots", "3"]).code == 1)
        let html = folder(of: job) + "/report.html", trace = folder(of: job) + "/trace.json"
        let made = try ChildProcess.run([MPIHarness.cohort, "report", job, "-o", html, "--trace", trace])
        #expect(made.code == 0, "\(made.output)")
        #expect(made.stdout.contains("wrote \(html) (6 attempts) and \(trace)"))
        let page = Files.read(html)
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("@import"), "no network fetches")
        #expect(!page.contains("</script><b>"), "data cannot close its script element")
        #expect(page.contains("\"failures\":[{\"stage\":\"fit\",\"count\":1,"), "the run's failure is listed")
        // Three subjects never fill 2 x 3 slots: the most attempts seen at once would say 3 at most.
        #expect(page.contains("\"slots\":6,"), "two workers of 3 cpus each, as they joined")

        let checked = try ChildProcess.run(["python3", "-c", """
            import json, sys
            d = json.load(open(sys.argv[1]))
            events = d["traceEvents"]
            names = {(e["pid"], e.get("tid")): e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] in ("process_name", "thread_name")}
            spans = [e for e in events if e["ph"] == "X"]
            assert len(spans) == 6, len(spans)
            for e in spans:
                assert e["dur"] >= 0 and e["ts"] >= 0 and (e["pid"], None) in names and (e["pid"], e["tid"]) in names, e
                assert e["cat"] in ("prep", "fit") and e["name"].startswith(e["cat"] + ":"), e
            assert any(e["args"]["outcome"] == "exit status 2" for e in spans)
            assert all(n.startswith("rank ") for (pid, tid), n in names.items() if pid > 0 and tid is None)
            counters = [e for e in events if e["ph"] == "C"]
            assert counters and all(set(e["args"]) == {"running", "ready", "idle"} for e in counters)
            assert max(e["args"]["running"] for e in counters) >= 1
            # Idle counts against the workers' 2 x 3 cpus as journaled when they joined.
            assert all(e["args"]["running"] + e["args"]["idle"] == 6 for e in counters), counters
            print("ok")
            """, trace])
        #expect(checked.stdout == "ok\n", "\(checked.output)")

        guard let chromium = testTool("chromium") else { return }
        let browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + folder(of: job) + "/chromium"]
        let dom = try ChildProcess.run(browser + ["--dump-dom", "file://" + html])
        #expect(dom.stdout.contains("<div id=\"state\" class=\"muted\">rendered 6 attempts</div>"), "the script ran to its end: \(dom.stdout.suffix(400))")
        #expect(dom.stdout.contains("<div id=\"errors\"></div>"), "no script errors: \(dom.stdout)")
        let png = folder(of: job) + "/report.png"
        _ = try ChildProcess.run(browser + ["--window-size=1200,800", "--screenshot=" + png, "file://" + html])
        // The screenshot shows the timeline: bars of prep's colour and the
        // failure's red, far more of each than the legend's 12-pixel squares.
        let pixels = try ChildProcess.run(["python3", "-c", Self.pngColours, png, "4e79a7", "d62728"])
        let counts = pixels.stdout.split(separator: "\n").map { Int($0.split(separator: " ").last ?? "") ?? 0 }
        #expect(counts.count == 2 && counts.allSatisfy { $0 > 600 }, "\(pixels.output)")
    }

    /// 100,000 attempts (a journal written here: 20,000 subjects, 5
    /// stages, 64 slots): the page is made, loads and draws every one.
    @Test func aHundredThousandAttemptsStayUsable() throws {
        let subjects = (1...20_000).map { "s\($0)" }
        let job = try MPIHarness.writeJob("study: big\nsubjects: [\(subjects.joined(separator: ", "))]\nstages:\n"
            + (1...5).map { "  - {name: stage\($0), domain: subject, run: 'true'}\n" }.joined())
        var text = JournalFormat.encode(.runStarted(.init(jobHash: "h", host: "login", pid: 1, ranks: 17, time: 1000)))
        var clock = 1000.0
        for stage in 1...5 {
            for (index, subject) in subjects.enumerated() {
                let rank = 1 + index % 16
                let start = clock + Double(index / 64) * 0.5
                let attempt = JournalRecord.Attempt(instance: "stage\(stage):\(subject)", attempt: 1, rank: rank, host: "node\(rank)", time: start)
                var ended = attempt
                ended.time = start + 0.4
                text += JournalFormat.encode(.started(attempt))
                text += JournalFormat.encode(.finished(ended, .init(outcome: index % 997 == 0 ? .exited(1) : .succeeded, wallSeconds: 0.4, peakMemoryKiB: 2048)))
            }
            clock += Double(subjects.count / 64 + 1) * 0.5
        }
        text += JournalFormat.encode(.runEnded(reason: "finished", time: clock))
        Files.makeFolder(folder(of: job) + "/.cohort/big")
        Files.write(folder(of: job) + "/.cohort/big/journal", text)
        let html = folder(of: job) + "/report.html"
        let made = try ChildProcess.run([MPIHarness.cohort, "report", job, "-o", html], timeout: 300)
        #expect(made.code == 0, "\(made.output)")
        #expect(made.stdout.contains("(100000 attempts)"))
        guard let chromium = testTool("chromium") else { return }
        let dom = try ChildProcess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + folder(of: job) + "/chromium",
                                        "--dump-dom", "file://" + html], timeout: 300)
        #expect(dom.stdout.contains("rendered 100000 attempts</div>"), "\(dom.stdout.suffix(300))")
        #expect(dom.stdout.contains("<div id=\"errors\"></div>"), "no script errors at scale")
    }

    @Test func aReportCanBeMadeWhileTheRunGoesOn() throws {
        let job = try MPIHarness.writeJob("""
            study: midrun
            subjects: [a, b]
            stages:
              - {name: slow, domain: subject, run: 'touch {workdir}/started; sleep 20'}
            """)
        let run = try ChildProcess([MPIHarness.cohort, "run", job, "--slots", "2"])
        defer { kill(run.pid, SIGTERM); _ = run.wait(timeout: 30) }
        #expect(Clock.waitUntil(timeout: 30) { Files.exists(folder(of: job) + "/out/slow/a/started") && Files.exists(folder(of: job) + "/out/slow/b/started") })
        Clock.sleep(1.5)
        let trace = folder(of: job) + "/trace.json"
        let made = try ChildProcess.run([MPIHarness.cohort, "report", job, "-o", folder(of: job) + "/r.html", "--trace", trace])
        #expect(made.code == 0, "\(made.output)")
        // The running attempts last until now, not until the run's last record.
        let checked = try ChildProcess.run(["python3", "-c", """
            import json, sys
            spans = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e["ph"] == "X"]
            assert len(spans) == 2 and all(e["args"]["outcome"] == "unfinished" and e["dur"] >= 1000000 for e in spans), spans
            print("ok")
            """, trace])
        #expect(checked.stdout == "ok\n", "\(checked.output)")
        let none = try ChildProcess.run([MPIHarness.cohort, "report", job, "--run", "7"])
        #expect(none.code == 2)
        #expect(none.stderr.contains("--run 7: the journal holds runs 1 to 1"))
    }

    /// Prints, per colour given in hex, how many pixels of the PNG have it
    /// (decodes 8-bit RGB/RGBA PNGs with the standard library only).
    static let pngColours = """
        import sys, zlib, struct
        data = open(sys.argv[1], "rb").read()
        assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        pos, chunks = 8, {}
        idat = b""
        while pos < len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            if kind == b"IHDR": width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            if kind == b"IDAT": idat += body
            pos += 12 + length
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
        raw, stride = zlib.decompress(idat), width * bpp
        rows, prev, i = [], bytearray(stride), 0
        for _ in range(height):
            f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            rows.append(bytes(line)); prev = line
        counts = {}
        for line in rows:
            for x in range(0, stride, bpp):
                key = line[x:x + 3]
                counts[key] = counts.get(key, 0) + 1
        for colour in sys.argv[2:]:
            print(colour, counts.get(bytes.fromhex(colour), 0))
        """
}
