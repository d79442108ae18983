import CohortCore
import CohortTesting
import Testing

/// Priorities, placement, locks and fairness, with simulated workers.
@Suite struct SchedulingPolicyTests {
    /// Two subjects, ten sessions each: twenty short session checks (1 s),
    /// listed first, beside a long per-subject chain (3 x 6 s).
    let skewed = JobFixtures.job([
        ("qc", .session, []), ("model1", .subject, []), ("model2", .subject, [1]), ("model3", .subject, [2]),
    ], subjects: JobFixtures.subjects(2, sessions: 10))

    func seconds(_ instance: InstanceID, _ graph: InstanceGraph) -> Double {
        graph.job.stages[graph.stage(of: instance)].name == "qc" ? 1 : 6
    }

    @Test func criticalPathBeatsFirstComeFirstServedOnASkewedDAG() throws {
        let fcfs = try SchedulerSimulation(job: skewed, workers: .workers(1, cpus: 3), policy: .firstComeFirstServed, duration: seconds)
        let byCounts = try SchedulerSimulation(job: skewed, workers: .workers(1, cpus: 3), policy: .criticalPath(), duration: seconds)
        let byDurations = try SchedulerSimulation(job: skewed, workers: .workers(1, cpus: 3),
                                                  policy: .criticalPath(stageDurations: [1, 6, 6, 6]), duration: seconds)
        // FCFS: 20 checks on 3 cpus first (the chain starts at 6 and 7 s), then 18 s of chain.
        #expect(fcfs.makespan == 25)
        // Critical path by counts: the chains start at once, but model3 (1 stage left) ties with the checks.
        #expect(byCounts.makespan == 21)
        // Weighted by the durations a journal holds: the checks only fill the third cpu. The optimum.
        #expect(byDurations.makespan == 19)
        #expect(byDurations.executions(ofStage: "model1").allSatisfy { $0.start == 0 })
    }

    @Test func journalDurationsWeighTheCriticalPath() throws {
        // By counts, `a -> b` (2 stages) outranks `c` (1 stage); by measured durations c (50 s) comes first.
        let job = JobFixtures.job([("a", .study, []), ("b", .study, [0]), ("c", .study, [])])
        let byCounts = SchedulingPolicy.criticalPathLengths(of: job, durations: [])
        #expect(byCounts == [2, 1, 1])
        let byDurations = SchedulingPolicy.criticalPathLengths(of: job, durations: [1, 1, 50])
        #expect(byDurations == [2, 1, 50])
        let simulated = try SchedulerSimulation(job: job, workers: .workers(1, cpus: 1), policy: .criticalPath(stageDurations: [1, 1, 50])) { id, graph in
            [1.0, 1, 50][graph.stage(of: id)]
        }
        #expect(simulated.executions.first.map { simulated.graph.name(of: $0.instance) } == "c")
        // Unknown stages weigh the mean of the known ones.
        #expect(SchedulingPolicy.criticalPathLengths(of: job, durations: [nil, 4, 8]) == [10, 4, 8])
    }

    /// Many subjects through a chain of session stages and a subject stage,
    /// on few cpus: stage by stage, no subject is finished until the last
    /// stage starts; subject by subject, the first is finished at once, and
    /// the run takes no longer.
    @Test func subjectsFirstFinishesSubjectsEarlyAtNoCostToTheEnd() throws {
        let job = JobFixtures.job([("convert", .session, []), ("realign", .session, [0]), ("smooth", .session, [1]),
                                   ("model", .subject, [2]), ("group", .study, [3])],
                                  subjects: JobFixtures.subjects(40, sessions: 2))
        let durations: [Double?] = [1, 3, 2, 4, 5]
        func duration(_ instance: InstanceID, _ graph: InstanceGraph) -> Double { durations[graph.stage(of: instance)]! }
        let byStage = try SchedulerSimulation(job: job, workers: .workers(2, cpus: 2), policy: .criticalPath(stageDurations: durations),
                                              duration: duration)
        let bySubject = try SchedulerSimulation(job: job, workers: .workers(2, cpus: 2), policy: .subjectsFirst(stageDurations: durations),
                                                duration: duration)
        func firstSubjectDone(_ run: SchedulerSimulation) -> Double {
            let model = run.executions(ofStage: "model")
            return model.map(\.end).min() ?? .infinity
        }
        #expect(firstSubjectDone(bySubject) < firstSubjectDone(byStage) / 5, "\(firstSubjectDone(bySubject)) vs \(firstSubjectDone(byStage))")
        #expect(bySubject.makespan <= byStage.makespan * 1.02, "\(bySubject.makespan) vs \(byStage.makespan)")
    }

    /// With little work left beside the longest chain, subjects first is critical path first.
    @Test func subjectsFirstKeepsTheCriticalPathWhenTheChainDecides() throws {
        let bySubject = try SchedulerSimulation(job: skewed, workers: .workers(1, cpus: 3),
                                                policy: .subjectsFirst(stageDurations: [1, 6, 6, 6]), duration: seconds)
        #expect(bySubject.makespan == 19, "the optimum, as critical path first")
    }

    /// Work skipped below a failure is no longer work to do: it must not keep
    /// subject order on when the chain decides the end.
    @Test func skippedWorkDoesNotKeepSubjectsFirstOn() throws {
        let job = JobFixtures.job([
            ("qc", .session, []), ("model1", .subject, []), ("model2", .subject, [1]), ("model3", .subject, [2]),
            ("bad", .subject, []), ("heavy", .subject, [4]),
        ], subjects: JobFixtures.subjects(2, sessions: 10))
        let durations: [Double?] = [1, 6, 6, 6, 0.5, 100]
        func duration(_ instance: InstanceID, _ graph: InstanceGraph) -> Double { durations[graph.stage(of: instance)]! }
        func fails(_ instance: InstanceID, _ graph: InstanceGraph) -> Bool { graph.job.stages[graph.stage(of: instance)].name == "bad" }
        let byPath = try SchedulerSimulation(job: job, workers: .workers(1, cpus: 3), policy: .criticalPath(stageDurations: durations),
                                             fails: fails, duration: duration)
        let bySubject = try SchedulerSimulation(job: job, workers: .workers(1, cpus: 3), policy: .subjectsFirst(stageDurations: durations),
                                                fails: fails, duration: duration)
        #expect(bySubject.makespan == byPath.makespan, "\(bySubject.makespan) vs \(byPath.makespan)")
    }

    @Test func stagePriorityOverridesTheCriticalPath() throws {
        var job = skewed
        job.stages[0].priority = 5
        let simulated = try SchedulerSimulation(job: job, workers: .workers(1, cpus: 3), policy: .criticalPath(), duration: seconds)
        #expect(simulated.executions(ofStage: "model1").allSatisfy { $0.start >= 6 }, "the checks went first")
    }

    @Test func labelledStagesRunOnlyOnLabelledWorkers() throws {
        var job = JobFixtures.job([("prep", .subject, []), ("train", .subject, [0]), ("report", .study, [1])])
        job.stages[1].on = "gpu"
        job.stages[2].on = "rank0"
        let workers: [(WorkerID, WorkerProfile)] = [
            (WorkerID(0), WorkerProfile(capacity: Capacity(cpus: 1, memory: 0), labels: ["rank0"], exclusive: true)),
            (WorkerID(1), WorkerProfile(capacity: Capacity(cpus: 2, memory: 0))),
            (WorkerID(2), WorkerProfile(capacity: Capacity(cpus: 2, memory: 0), labels: ["gpu"])),
        ]
        let simulated = try SchedulerSimulation(job: job, workers: workers, policy: .criticalPath()) { _, _ in 1 }
        #expect(simulated.executions(ofStage: "train").allSatisfy { $0.worker == WorkerID(2) })
        #expect(simulated.executions(ofStage: "report").map(\.worker) == [WorkerID(0)])
        #expect(simulated.executions(ofStage: "prep").allSatisfy { $0.worker != WorkerID(0) }, "rank 0 takes only its own stages")
    }

    @Test func stageNoWorkerCanTakeIsReportedWithItsLabel() {
        var job = JobFixtures.job([("train", .study, [])])
        job.stages[0].on = "gpu"
        let problems = Scheduler.unplaceableStages(of: job, on: [WorkerProfile(capacity: Capacity(cpus: 8, memory: 0))])
        #expect(problems.first?.description.hasPrefix("stage \"train\" runs on workers labelled \"gpu\", but no worker has that label") == true)
        job.stages[0].cpus = 16
        let tooSmall = Scheduler.unplaceableStages(of: job, on: [WorkerProfile(capacity: Capacity(cpus: 8, memory: 0), labels: ["gpu"])])
        #expect(tooSmall.first?.description.contains("the largest worker labelled \"gpu\" has 8 cpus") == true)
    }

    @Test func exclusiveLockHoldersNeverOverlapAndOthersAreNotDelayed() throws {
        var job = JobFixtures.job([("write", .session, []), ("free", .session, [])])
        job.stages[0].locks = [StageLock(name: "atlas")]
        let simulated = try SchedulerSimulation(job: job, workers: .workers(2, cpus: 2), policy: .criticalPath()) { _, _ in 1 }
        let writers = simulated.executions(ofStage: "write").sorted { $0.start < $1.start }
        for (a, b) in zip(writers, writers.dropFirst()) { #expect(a.end <= b.start) }
        // Four cpus, one writer at a time: the other three cpus run `free` meanwhile.
        #expect(simulated.executions(ofStage: "free").allSatisfy { $0.start < 2 })
        #expect(simulated.makespan == 6, "six writes in a row, nothing idle that could run")
    }

    @Test func sharedReadersOverlapButNeverBesideAWriter() throws {
        var job = JobFixtures.job([("read", .session, []), ("write", .subject, [])])
        job.stages[0].locks = [StageLock(name: "atlas", shared: true)]
        job.stages[1].locks = [StageLock(name: "atlas")]
        let simulated = try SchedulerSimulation(job: job, workers: .workers(1, cpus: 4), policy: .criticalPath()) { _, _ in 1 }
        let readers = simulated.executions(ofStage: "read")
        let writers = simulated.executions(ofStage: "write")
        #expect(Set(readers.map(\.start)).count < readers.count, "readers ran together")
        for writer in writers {
            for other in readers + writers where other.instance != writer.instance {
                #expect(other.end <= writer.start || other.start >= writer.end, "overlap with a writer")
            }
        }
    }

    @Test func aWriterIsNotStarvedByReaders() throws {
        // Readers keep coming (a chain per subject); a writer becomes ready at once and must not wait for all of them.
        var job = JobFixtures.job([("read1", .subject, []), ("read2", .subject, [0]), ("read3", .subject, [1]), ("write", .study, [])],
                                  subjects: JobFixtures.subjects(6, sessions: 0))
        for stage in 0..<3 { job.stages[stage].locks = [StageLock(name: "db", shared: true)] }
        job.stages[3].locks = [StageLock(name: "db")]
        job.stages[3].priority = -10  // and it ranks last
        let simulated = try SchedulerSimulation(job: job, workers: .workers(1, cpus: 3), policy: .criticalPath()) { _, _ in 1 }
        let write = try #require(simulated.executions(ofStage: "write").first)
        let lastRead = simulated.executions(ofStage: "read3").map(\.end).max() ?? 0
        #expect(write.start < lastRead, "the writer waited for every reader")
    }

    @Test func noReadyInstanceWaitsForeverWithFewWorkers() throws {
        // Many subjects, a deep chain, uneven durations, one small worker: everything runs,
        // and each stage's instances start in the order they became ready.
        let job = JobFixtures.job([("a", .session, []), ("b", .session, [0]), ("c", .subject, [1]), ("d", .study, [2])],
                                  subjects: JobFixtures.subjects(30, sessions: 3))
        let simulated = try SchedulerSimulation(job: job, workers: .workers(1, cpus: 2), policy: .criticalPath()) { id, _ in
            Double(1 + id.rawValue % 7)
        }
        #expect(simulated.executions.count == simulated.graph.instanceCount)
        let graph = simulated.graph
        for stage in job.stages.indices {
            let runs = simulated.executions.filter { graph.stage(of: $0.instance) == stage }
            let readyAt = runs.map { run in
                graph.dependencies(of: run.instance).flatMap { $0 }.map { dep in
                    simulated.executions.first { $0.instance.index == dep }!.end
                }.max() ?? 0
            }
            // FIFO within a stage: whoever was ready earlier never starts later.
            for (i, a) in runs.enumerated() {
                for (j, b) in runs.enumerated() where readyAt[i] < readyAt[j] {
                    #expect(a.start <= b.start)
                }
            }
        }
    }
}
