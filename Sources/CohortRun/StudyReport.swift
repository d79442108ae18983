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
        let data = TimelineData(graph: graph, run: timeline.runs[number - 1], runNumber: number)
        let failures = statusReport().report?.failureGroups ?? []
        return (ReportHTML.render(data, failures: failures, jobFile: jobFile), TraceJSON.render(data), data.spans.count)
    }
}
