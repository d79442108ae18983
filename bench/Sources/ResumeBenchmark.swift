// cohort-bench resume [SUBJECTS]: resume planning of a finished study.
//
// A study of SUBJECTS subjects x 3 sessions (default 100000: 1,000,001
// instances) through three per-session stages, one per-subject stage and
// one per-study stage (which waits for every subject), with a journal of
// one start and one end record per instance (2,000,001 records, lineage
// included). Measures reading the journal and planning a no-op rerun, each
// as a ratio against a baseline measured in the same run: touching every
// byte of the journal text once (counting its lines).
import CohortCore

func resumeBenchmark(subjects subjectCount: Int) {
    let subjects = (0..<subjectCount).map { Subject(name: "sub-\($0)", sessions: ["ses-1", "ses-2", "ses-3"]) }
    let stages = [
        Stage(name: "convert", domain: .session, command: "sh modules/convert.sh {subject} {session}", dependencies: []),
        Stage(name: "realign", domain: .session, command: "sh modules/realign.sh", dependencies: [0]),
        Stage(name: "smooth", domain: .session, command: "sh modules/smooth.sh", dependencies: [1]),
        Stage(name: "firstlevel", domain: .subject, command: "sh modules/firstlevel.sh", dependencies: [2]),
        Stage(name: "group", domain: .study, command: "sh modules/group.sh", dependencies: [3]),
    ]
    let job = Job(study: "bench", subjects: subjects, stages: stages)
    guard let graph = try? InstanceGraph(job: job) else { fatalError("too many instances") }
    let definitions = Definitions(graph: graph)

    // The journal of one complete run, in dependency order (stages are laid out in it).
    let writeStart = seconds()
    let empty = ResumePlan(graph: graph, history: JournalHistory(), definitions: definitions)
    var lineage = RunLineage(plan: empty, definitions: definitions, runID: "0123456789abcdef")
    var text = JournalFormat.encode(.runStarted(.init(id: "0123456789abcdef", jobHash: "j", host: "node01", pid: 1, ranks: 65, time: 1.8e9)))
    for index in 0..<graph.instanceCount {
        let instance = InstanceID(index)
        let attempt = JournalRecord.Attempt(instance: graph.name(of: instance), attempt: 1, rank: 1 + index % 64,
                                            host: "node\(index % 64)", time: 1.8e9 + Double(index) / 1000,
                                            logs: "out/.attempts/" + graph.name(of: instance).replacingColons())
        text += JournalFormat.encode(.started(attempt))
        text += JournalFormat.encode(.finished(attempt, .init(outcome: .succeeded, wallSeconds: 12.5, peakMemoryKiB: 123_456,
                                                               lineage: lineage.succeeded(instance, attempt: 1))))
    }
    let write = seconds() - writeStart

    let baselineStart = seconds()
    var lines = 0
    for byte in text.utf8 where byte == 10 { lines += 1 }
    let baseline = seconds() - baselineStart

    let readStart = seconds()
    let history = JournalHistory(text: text)
    let read = seconds() - readStart

    let planStart = seconds()
    let plan = ResumePlan(graph: graph, history: history, definitions: definitions)
    let outlook = RunOutlook(plan: plan, graph: graph)
    let planning = seconds() - planStart
    precondition(plan.doneCount == graph.instanceCount && outlook.toRunCount == 0, "a finished study must plan a no-op rerun")

    print("\nresume: \(graph.instanceCount) instances, \(lines) journal records, \(text.utf8.count / 1_048_576) MiB of journal (written in \(format(write, 1)) s)")
    print("baseline (count the journal's lines): \(format(baseline, 3)) s")
    print("read the journal: \(format(read, 3)) s = \(format(read / baseline, 1)) x baseline")
    print("plan the rerun (lineage of every instance, the study stage over \(subjectCount) inputs): \(format(planning, 3)) s = \(format(planning / baseline, 1)) x baseline")
    print("peak memory \(format(peakMemoryMiB(), 1)) MiB")
}

extension String {
    func replacingColons() -> String { String(map { $0 == ":" ? "/" : $0 }) }
}
