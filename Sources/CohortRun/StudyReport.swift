import CohortCore

extension Study {
    /// Why a report cannot be made.
    public struct ReportProblem: Error, CustomStringConvertible {
        public var description: String
    }

    /// `cohort report`: the HTML page and the Chrome trace of run `run`
    /// (1 is the first; nil: the last), from the journal as it stands
    /// (mid-run, after a crash). Takes no lock.
    public func report(run: Int? = nil) throws(ReportProblem) -> (html: String, trace: String, attempts: Int) {
        guard let text = JobFileReader.readOptional(state.journal) else {
            throw ReportProblem(description: "\(jobFile): no run yet (no journal at \(state.journal)): nothing to report")
        }
        let timeline = JournalTimeline(text: text)
        guard !timeline.runs.isEmpty else { throw ReportProblem(description: "\(state.journal): no run recorded yet") }
        let number = run ?? timeline.runs.count
        guard (1...timeline.runs.count).contains(number) else {
            throw ReportProblem(description: "--run \(number): the journal holds runs 1 to \(timeline.runs.count)")
        }
        var chosen = timeline.runs[number - 1]
        // A run going on now: what it runs lasts until now, not until its last record.
        if number == timeline.runs.count, case .live = runState(history: JournalHistory(text: text)) {
            let now = max(chosen.end, epochSeconds())
            chosen.end = now
            for index in chosen.spans.indices where chosen.spans[index].outcome == nil { chosen.spans[index].end = now }
        }
        let data = TimelineData(graph: graph, run: chosen, runNumber: number)
        let failures = failureGroups(of: chosen)
        return (ReportHTML.render(data, failures: failures, jobFile: jobFile), TraceJSON.render(data),
                data.spans.filter { !$0.heldOnly }.count)
    }

    /// The instances whose last attempt in `run` failed, grouped as `status` groups them.
    func failureGroups(of run: JournalTimeline.Run) -> [FailureGroup] {
        var last: [String: JournalTimeline.Span] = [:]
        for span in run.spans where !span.heldOnly && span.start >= (last[span.instance]?.start ?? -.infinity) { last[span.instance] = span }
        let failed = last.values.filter { $0.outcome?.isFailure == true }.sorted { $0.start < $1.start }
        guard !failed.isEmpty else { return [] }
        var ids: [String: InstanceID] = [:]
        for index in 0..<graph.instanceCount { ids[graph.name(of: InstanceID(index))] = InstanceID(index) }
        let factory = taskFactory()
        let details = failed.enumerated().compactMap { number, span -> FailureDetail? in
            guard let instance = ids[span.instance], let outcome = span.outcome else { return nil }
            let failure = StudyStatus.Failure(instance: instance, outcome: outcome, attempt: span.attempt, logs: nil, rank: span.rank,
                                              host: span.host, wallSeconds: span.end - span.start, peakMemoryKiB: span.peakMemoryKiB)
            return FailureDetail.reading(failure, folder: factory.attemptFolder(of: instance, attempt: span.attempt),
                                         graph: graph, readLog: number < StatusReport.logsRead)
        }
        return FailureGroup.grouped(details)
    }
}
