/// One thing wrong with a job file, located: `job.yml:14: stages[3].after: ...`.
public struct JobFileProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file name as the user gave it.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// Path of the field, e.g. `stages[3].after`; empty for the whole file.
    public var field: String
    public var message: String

    public init(file: String, line: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if !field.isEmpty { text += "\(field): " }
        return text + message
    }
}

/// Every problem found in a job file; nothing runs while there is one.
public struct JobFileError: Error, Sendable, CustomStringConvertible {
    public var problems: [JobFileProblem]

    public init(problems: [JobFileProblem]) {
        precondition(!problems.isEmpty)
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
