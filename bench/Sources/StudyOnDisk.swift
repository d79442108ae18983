// cohort-bench study DIR [SUBJECTS]: writes a finished study to DIR — a job
// file (SUBJECTS x 3 sessions through ten per-session stages, one
// per-subject stage and one per-study stage: 31 x SUBJECTS + 1 instances;
// default 32258, about 10^6) and the journal of one complete run of it,
// lineage included — so that `cohort status`, `plan` and `run` can be timed
// on a study of that size without running it.
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

func writeStudy(folder: String, subjectCount: Int) {
    let sessions = ["ses-1", "ses-2", "ses-3"]
    var yaml = "study: big\nworkdir: out\nsubjects: ["
    yaml += (0..<subjectCount).map { "s\($0)" }.joined(separator: ",")
    yaml += "]\nsessions: [\(sessions.joined(separator: ","))]\nstages:\n"
    var stages: [Stage] = []
    for index in 0..<10 {
        yaml += "  - {name: step\(index), domain: session, run: 'true'}\n"
        stages.append(Stage(name: "step\(index)", domain: .session, command: "true", dependencies: index == 0 ? [] : [index - 1]))
    }
    yaml += "  - {name: subject, domain: subject, run: 'true'}\n  - {name: group, domain: study, run: 'true'}\n"
    stages.append(Stage(name: "subject", domain: .subject, command: "true", dependencies: [9]))
    stages.append(Stage(name: "group", domain: .study, command: "true", dependencies: [10]))
    let subjects = (0..<subjectCount).map { Subject(name: "s\($0)", sessions: sessions) }
    let job = Job(study: "big", workdir: "out", subjects: subjects, stages: stages)
    guard let graph = try? InstanceGraph(job: job) else { fatalError("too many instances") }
    let definitions = Definitions(graph: graph)
    let empty = ResumePlan(graph: graph, history: JournalHistory(), definitions: definitions)
    var lineage = RunLineage(plan: empty, definitions: definitions, runID: "0123456789abcdef")
    mkdir(folder, 0o755)
    mkdir(folder + "/.cohort", 0o755)
    mkdir(folder + "/.cohort/big", 0o755)
    writeFile(folder + "/job.yml", yaml)
    guard let journal = fopen(folder + "/.cohort/big/journal", "w") else { fatalError("cannot write the journal") }
    let start = JournalRecord.RunStart(id: "0123456789abcdef", jobHash: "bench", host: "node00", pid: 1, ranks: 65, time: 1.8e9)
    fputs(JournalFormat.encode(.runStarted(start)), journal)
    for index in 0..<graph.instanceCount {
        let instance = InstanceID(index)
        let name = graph.name(of: instance)
        let attempt = JournalRecord.Attempt(instance: name, attempt: 1, rank: 1 + index % 64, host: "node\(1 + index % 64)",
                                            time: 1.8e9 + Double(index) / 1000, logs: "out/.attempts/" + name.replacingColons())
        fputs(JournalFormat.encode(.started(attempt)), journal)
        fputs(JournalFormat.encode(.finished(attempt, .init(outcome: .succeeded, wallSeconds: 12.5, peakMemoryKiB: 123_456,
                                                             lineage: lineage.succeeded(instance, attempt: 1)))), journal)
    }
    fputs(JournalFormat.encode(.runEnded(reason: "done", time: 1.8e9 + Double(graph.instanceCount) / 1000)), journal)
    fclose(journal)
    print("wrote \(folder)/job.yml (\(graph.instanceCount) instances) and its journal (\(2 * graph.instanceCount + 2) records)")
}

private func writeFile(_ path: String, _ text: String) {
    guard let file = fopen(path, "w") else { fatalError("cannot write \(path)") }
    fputs(text, file)
    fclose(file)
}
