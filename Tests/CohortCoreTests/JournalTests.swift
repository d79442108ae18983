import CohortCore
import Testing

/// The journal's record format and what it tells a new run.
@Suite struct JournalTests {
    let attempt = JournalRecord.Attempt(instance: "realign:sub-01:ses-pre", attempt: 2, rank: 3, host: "node07", time: 1_795_000_000.25)

    /// One record of each kind and outcome, with text that needs escaping.
    var samples: [JournalRecord] {
        [
            .runStarted(.init(id: "0123456789abcdef", jobHash: "abc123", host: "login\tnode", pid: 42, ranks: 5, time: 1.5)),
            .started(attempt),
            .started(.init(instance: "a", attempt: 3, rank: 1, host: "h", time: 2, logs: "out/.attempts/a/3")),
            .finished(attempt, .init(outcome: .succeeded, wallSeconds: 12.345678, peakMemoryKiB: 2048)),
            .finished(attempt, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 2, lineage: SuccessLineage(
                definition: InstanceDefinition(run: 1, environment: .max, setup: 0, script: 0xdead_beef), stamp: 42, inputs: .max))),
            .forced(ForceRequest(stages: ["realign", "smooth"], only: ["realign:sub-01", "smooth"], subjects: ["sub-01,sub-02"]), time: 5),
            .forced(ForceRequest(stages: ["a"]), time: 6),
            .forced(ForceRequest(stages: ["a"], id: "chain-17"), time: 7),
            .finished(attempt, .init(outcome: .exited(3), wallSeconds: 1, peakMemoryKiB: 0)),
            .finished(attempt, .init(outcome: .signaled(9), wallSeconds: 1, peakMemoryKiB: 0)),
            .finished(attempt, .init(outcome: .timedOut, wallSeconds: 1, peakMemoryKiB: 0)),
            .finished(attempt, .init(outcome: .interrupted, wallSeconds: 1, peakMemoryKiB: 0)),
            .finished(attempt, .init(outcome: .couldNotStart("cannot create folder /x: 100% full\nreally"), wallSeconds: 0, peakMemoryKiB: 0)),
            .skipped(instance: "group", cause: "convert:sub-02:ses-pre", time: 3),
            .runEnded(reason: "stopped by SIGTERM", time: 4),
            .workerJoined(rank: 2, host: "node02", cpus: 16, memory: 64 << 30, time: 1.25),
            .started(.init(instance: "ünï:€", attempt: 1, rank: 0, host: "h%", time: -0.5, logs: "a\tb\rc")),
            .drained(rank: 4, host: "n4", reason: "its last 3 attempts failed", time: 9.5),
        ]
    }

    @Test func recordsRoundTrip() throws {
        for record in samples {
            let line = JournalFormat.encode(record)
            #expect(line.hasSuffix("\n"))
            #expect(line.dropLast().contains("\n") == false, "one record, one line")
            #expect(try JournalFormat.decode(line.dropLast()) == record)
        }
    }

    /// Where a failed attempt's logs are rides on its end record (a start
    /// says nothing of it); journals that put it on the start still tell it.
    @Test func aFailedAttemptsEndSaysWhereItsLogsAre() throws {
        var failed = attempt
        failed.logs = "out/.attempts/realign/sub-01/ses-pre/2"
        let end = JournalRecord.finished(failed, .init(outcome: .exited(1), wallSeconds: 1, peakMemoryKiB: 0))
        let line = JournalFormat.encode(end)
        #expect(line == "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000"
                + "\toutcome=exit:1\twall=1.000000\tpeakKiB=0\tlogs=out/.attempts/realign/sub-01/ses-pre/2\t#e1ed5a19\n")
        #expect(try JournalFormat.decode(line.dropLast()) == end)

        var history = JournalHistory()
        history.apply(.started(attempt))
        history.apply(end)
        #expect(history["realign:sub-01:ses-pre"]?.lastLogs == "out/.attempts/realign/sub-01/ses-pre/2")
        // A new attempt's start: the failure's folder no longer describes what is there.
        history.apply(.started(attempt))
        #expect(history["realign:sub-01:ses-pre"]?.lastLogs == nil)

        var older = JournalHistory()
        older.apply(.started(failed))
        older.apply(.finished(attempt, .init(outcome: .exited(1), wallSeconds: 1, peakMemoryKiB: 0)))
        #expect(older["realign:sub-01:ses-pre"]?.lastLogs == "out/.attempts/realign/sub-01/ses-pre/2")
    }

    /// A follow-on its worker gave back unstarted has its attempt number
    /// started again: numbering goes on from the highest number started.
    @Test func anAttemptNumberStartedAgainIsCountedOnce() {
        var history = JournalHistory()
        let first = JournalRecord.Attempt(instance: "a:s1", attempt: 1, rank: 1, host: "h", time: 1)
        var second = first
        second.attempt = 2
        history.apply(.started(first))
        history.apply(.finished(first, .init(outcome: .exited(1), wallSeconds: 1, peakMemoryKiB: 0)))
        history.apply(.started(second))
        history.apply(.finished(second, .init(outcome: .interrupted, wallSeconds: 0, peakMemoryKiB: 0)))
        history.apply(.started(second))
        #expect(history["a:s1"]?.attempts == 2)
    }

    /// The text of each sample, byte for byte: journals written by earlier
    /// versions stay readable, and what people read with `less` stays the same.
    @Test func recordsAreWrittenExactlyAsBefore() {
        let expected = [
            "cohort1\trun\tid=0123456789abcdef\tjob=abc123\thost=login%09node\tpid=42\tranks=5\ttime=1.500000\t#bc71fdb7\n",
            "cohort1\tstart\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\t#65b164cb\n",
            "cohort1\tstart\tinstance=a\tattempt=3\trank=1\thost=h\ttime=2.000000\tlogs=out/.attempts/a/3\t#8ba9a857\n",
            "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\toutcome=ok\twall=12.345678\tpeakKiB=2048\t#9bbba998\n",
            "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\toutcome=ok\twall=1.000000\tpeakKiB=2\tdef=0000000000000001.ffffffffffffffff.0000000000000000.00000000deadbeef\tstamp=000000000000002a\tinputs=ffffffffffffffff\t#a2fc9947\n",
            "cohort1\tforce\tstages=realign,smooth\tonly=realign:sub-01,smooth\tsubjects=sub-01,sub-02\ttime=5.000000\t#522075d2\n",
            "cohort1\tforce\tstages=a\tonly=\tsubjects=\ttime=6.000000\t#51dd67ce\n",
            "cohort1\tforce\tstages=a\tonly=\tsubjects=\ttime=7.000000\tid=chain-17\t#8477aed4\n",
            "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\toutcome=exit:3\twall=1.000000\tpeakKiB=0\t#9192a87e\n",
            "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\toutcome=signal:9\twall=1.000000\tpeakKiB=0\t#f648276b\n",
            "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\toutcome=timeout\twall=1.000000\tpeakKiB=0\t#30c090d5\n",
            "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\toutcome=interrupted\twall=1.000000\tpeakKiB=0\t#666d0de0\n",
            "cohort1\tend\tinstance=realign:sub-01:ses-pre\tattempt=2\trank=3\thost=node07\ttime=1795000000.250000\toutcome=nostart:cannot create folder /x: 100%25 full%0Areally\twall=0.000000\tpeakKiB=0\t#3b3e9068\n",
            "cohort1\tskip\tinstance=group\tcause=convert:sub-02:ses-pre\ttime=3.000000\t#13105d5a\n",
            "cohort1\tstop\treason=stopped by SIGTERM\ttime=4.000000\t#66688ea0\n",
            "cohort1\tjoin\trank=2\thost=node02\tcpus=16\tmemory=68719476736\ttime=1.250000\t#9bc4d17e\n",
            "cohort1\tstart\tinstance=ünï:€\tattempt=1\trank=0\thost=h%25\ttime=-0.500000\tlogs=a%09b%0Dc\t#bff055e3\n",
            "cohort1\tdrain\trank=4\thost=n4\treason=its last 3 attempts failed\ttime=9.500000\t#673ae6ec\n",
        ]
        for (record, line) in zip(samples, expected) {
            #expect(JournalFormat.encode(record) == line)
        }
        #expect(samples.count == expected.count)
    }

    @Test func aLostAttemptIsJournaledAsInterrupted() throws {
        // Lost with its worker or interrupted by the run: the journal's one word for "did not finish".
        let lost = JournalFormat.encode(.finished(attempt, .init(outcome: .lost, wallSeconds: 1, peakMemoryKiB: 0)))
        #expect(lost.contains("\toutcome=interrupted\t"), "\(lost)")
        #expect(try JournalFormat.decode(lost.dropLast()) == .finished(attempt, .init(outcome: .interrupted, wallSeconds: 1, peakMemoryKiB: 0)))
    }

    @Test func damagedRecordsAreRejected() {
        let line = JournalFormat.encode(.started(attempt)).dropLast()
        #expect(throws: JournalFormat.Damage.self) { try JournalFormat.decode(line.dropLast(5)) }
        #expect(throws: JournalFormat.Damage.self) { try JournalFormat.decode(Substring(line.replacingOccurrences(of: "rank=3", with: "rank=4"))) }
        #expect(throws: JournalFormat.Damage.self) { try JournalFormat.decode("") }
        #expect(throws: JournalFormat.Damage.self) { try JournalFormat.decode("garbage\t#00000000") }
    }

    @Test func aRecordOfANewerKindIsSkippedNotDamage() {
        // A whole record with a valid checksum, of a kind only a newer Cohort writes.
        let body = "cohort1\tfuture\tinstance=a\ttime=1.000000"
        let line = body + "\t#" + JournalFormat.checksumText(of: body) + "\n"
        let history = JournalHistory(text: line + JournalFormat.encode(.started(attempt)))
        #expect(history.damaged.isEmpty, "\(history.damaged)")
        #expect(history["realign:sub-01:ses-pre"]?.unfinished == true, "the records around it still count")
        let garbled = JournalHistory(text: body + "\t#00000000\n")
        #expect(garbled.damaged.count == 1, "with a wrong checksum it is damage")
    }

    @Test func historyKnowsSuccessesFailuresAndUnfinished() {
        var text = ""
        func add(_ record: JournalRecord) { text += JournalFormat.encode(record) }
        func attempt(_ name: String, _ number: Int = 1) -> JournalRecord.Attempt {
            .init(instance: name, attempt: number, rank: 1, host: "h", time: 0)
        }
        add(.runStarted(.init(jobHash: "j", host: "h", pid: 1, ranks: 2, time: 0)))
        add(.started(attempt("a")))
        add(.finished(attempt("a"), .init(outcome: .succeeded, wallSeconds: 2, peakMemoryKiB: 1)))
        add(.started(attempt("b")))
        add(.finished(attempt("b"), .init(outcome: .exited(1), wallSeconds: 1, peakMemoryKiB: 1)))
        add(.started(attempt("c")))
        add(.skipped(instance: "d", cause: "b", time: 0))
        let history = JournalHistory(text: text)
        #expect(history.runs == 1)
        #expect(history.damaged.isEmpty)
        #expect(history["a"]?.success != nil)
        #expect(history["a"]?.lastSuccessWallSeconds == 2)
        #expect(history["b"]?.success == nil)
        #expect(history["b"]?.lastOutcome == .exited(1))
        #expect(history["c"]?.unfinished == true)
        #expect(history["d"]?.skipped == true)
    }

    @Test func aNewAttemptVoidsAnEarlierSuccess() {
        let a = JournalRecord.Attempt(instance: "a", attempt: 1, rank: 1, host: "h", time: 0)
        let text = JournalFormat.encode(.finished(a, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 0)))
            + JournalFormat.encode(.started(a))
        #expect(JournalHistory(text: text)["a"]?.success == nil, "a forced rerun that was killed is not done")
    }

    @Test func tornLastRecordIsSetAsideAndNothingElseIsLost() {
        let a = JournalRecord.Attempt(instance: "a", attempt: 1, rank: 1, host: "h", time: 0)
        let b = JournalRecord.Attempt(instance: "b", attempt: 1, rank: 1, host: "h", time: 0)
        let whole = JournalFormat.encode(.finished(a, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 0)))
        let torn = String(JournalFormat.encode(.finished(b, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 0))).prefix(40))
        let history = JournalHistory(text: whole + torn)
        #expect(history.endsTorn)
        #expect(history.damaged.map(\.line) == [2])
        #expect(history["a"]?.success != nil)
        #expect(history["b"] == nil)
    }

    @Test func corruptLineInTheMiddleIsSkippedNotFatal() {
        let a = JournalRecord.Attempt(instance: "a", attempt: 1, rank: 1, host: "h", time: 0)
        let record = JournalFormat.encode(.finished(a, .init(outcome: .succeeded, wallSeconds: 1, peakMemoryKiB: 0)))
        let history = JournalHistory(text: "cohort1\tend\tinstance=x\t#deadbeef\n" + record)
        #expect(history.damaged.map(\.line) == [1])
        #expect(history["a"]?.success != nil)
        #expect(!history.endsTorn)
    }

    @Test func durations() {
        #expect(Quantity.seconds("90s") == 90)
        #expect(Quantity.seconds("30m") == 1800)
        #expect(Quantity.seconds("2h") == 7200)
        #expect(Quantity.seconds("1h30m") == 5400)
        #expect(Quantity.seconds("45") == 45)
        #expect(Quantity.seconds("0") == nil)
        #expect(Quantity.seconds("10x") == nil)
        #expect(Quantity.seconds("h") == nil)
        #expect(Quantity.seconds("99999999999999999999d") == nil)
    }
}

/// Slurm's environment, read as Slurm sets it.
@Suite struct SlurmAllocationTests {
    @Test func capacityFromSlurmEnvironment() {
        #expect(SlurmAllocation.nodeCapacity([:]) == nil)
        let perNode = SlurmAllocation.nodeCapacity(["SLURM_JOB_ID": "7", "SLURM_CPUS_ON_NODE": "32", "SLURM_MEM_PER_NODE": "120000"])
        #expect(perNode?.cpus == 32)
        #expect(perNode?.memory == 120_000 << 20)
        let perCPU = SlurmAllocation.nodeCapacity(["SLURM_JOB_ID": "7", "SLURM_CPUS_ON_NODE": "4", "SLURM_MEM_PER_CPU": "2048"])
        #expect(perCPU?.memory == 8 << 30)
        let noMemory = SlurmAllocation.nodeCapacity(["SLURM_JOB_ID": "7", "SLURM_CPUS_ON_NODE": "4"])
        #expect(noMemory?.cpus == 4)
        #expect(noMemory?.memory == nil)
        #expect(SlurmAllocation.nodeCapacity(["SLURM_JOB_ID": "7", "SLURM_CPUS_ON_NODE": "lots"]) == nil)
    }

    @Test func endTime() {
        #expect(SlurmAllocation.endTime(["SLURM_JOB_ID": "7", "SLURM_JOB_END_TIME": "1795470000"]) == 1_795_470_000)
        #expect(SlurmAllocation.endTime(["SLURM_JOB_END_TIME": "1795470000"]) == nil, "outside Slurm")
    }

    @Test func medianDurationsPerStage() {
        var history = JournalHistory()
        for (name, seconds) in [("a:s1", 10.0), ("a:s2", 30.0), ("a:s3", 20.0), ("b", 5.0)] {
            let attempt = JournalRecord.Attempt(instance: name, attempt: 1, rank: 1, host: "h", time: 0)
            history.apply(.finished(attempt, .init(outcome: .succeeded, wallSeconds: seconds, peakMemoryKiB: 0)))
        }
        let job = Job(study: "s", subjects: [], stages: [
            Stage(name: "a", domain: .subject, command: "x", dependencies: []),
            Stage(name: "b", domain: .study, command: "x", dependencies: []),
            Stage(name: "c", domain: .study, command: "x", dependencies: []),
        ])
        #expect(history.medianDurations(for: job) == [20, 5, nil])
    }
}
