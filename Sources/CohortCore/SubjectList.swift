/// `subjects: {file: list.txt}` (DESIGN §8): one subject per line, for data
/// that is not BIDS. Blank lines and lines starting with `#` are skipped;
/// a line with tabs gives its first column, and a first line saying
/// `participant_id` is a header, so a `participants.tsv` serves as is.
/// Unlike a BIDS folder, the file is the user's own word: a name Cohort
/// cannot use, or one listed twice, refuses the job with its line.
public enum SubjectList {
    public struct Problem: Error, Sendable, Equatable {
        /// 1-based line in the file.
        public var line: Int
        public var message: String
    }

    /// The subjects in file order, and every problem found (the job is
    /// refused when there is any).
    public static func names(in text: String) -> (names: [String], problems: [Problem]) {
        var names: [String] = []
        var seen: [String: Int] = [:]
        var problems: [Problem] = []
        for (index, line) in textLines(text).enumerated() {
            let first = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let name = String(first).trimmingSpaces()
            if name.isEmpty || name.hasPrefix("#") || (index == 0 && name == "participant_id") { continue }
            if let problem = Identifier.problem(with: name) {
                problems.append(Problem(line: index + 1, message: "subject \(problem)"))
            } else if let earlier = seen[name] {
                problems.append(Problem(line: index + 1, message: "subject \(quoted(name)) is listed twice (line \(earlier) too)"))
            } else {
                seen[name] = index + 1
                names.append(name)
            }
        }
        return (names, problems)
    }
}
