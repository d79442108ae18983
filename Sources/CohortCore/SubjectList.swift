/// `subjects: {file: list.txt}` (DESIGN §8): one subject per line, for data
/// that is not BIDS. Blank lines and lines starting with `#` are skipped;
/// a line with tabs gives its first column, or the column a header line
/// (the first that is not a comment) names `participant_id`, so a
/// `participants.tsv` serves as is.
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
        /// Which tab-separated column holds the names: the first, or the
        /// header's `participant_id` (the first line that is not a comment).
        var column = 0
        var headerSeen = false
        for (index, line) in textLines(text).enumerated() {
            let trimmed = String(line).trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
            if !headerSeen {
                headerSeen = true
                if let named = fields.firstIndex(of: "participant_id") {
                    column = named
                    continue
                }
            }
            let name = column < fields.count ? fields[column] : ""
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
