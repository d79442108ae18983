/// `{subject}`, `{session}`, `{study}` and `{workdir}` in a stage's `run:`
/// line. Each is replaced by its value shell-quoted, so a value can never
/// become shell syntax. `${VAR}` is the shell's and left alone.
public enum CommandTemplate {
    public enum Placeholder: String, CaseIterable, Sendable {
        case study, subject, session, workdir
    }

    /// The placeholders `command` uses, in order of appearance.
    public static func placeholders(in command: String) -> [Placeholder] {
        var found: [Placeholder] = []
        scan(command) { placeholder, _ in found.append(placeholder) }
        return found
    }

    /// `command` with each placeholder replaced by `value(placeholder)`, quoted.
    public static func substitute(_ command: String, _ value: (Placeholder) -> String) -> String {
        var result = ""
        var copiedUpTo = command.startIndex
        scan(command) { placeholder, range in
            result += command[copiedUpTo..<range.lowerBound]
            result += shellQuoted(value(placeholder))
            copiedUpTo = range.upperBound
        }
        result += command[copiedUpTo...]
        return result
    }

    /// `text` as one shell word: single-quoted, embedded quotes as `'\''`.
    public static func shellQuoted(_ text: String) -> String {
        if !text.isEmpty, text.unicodeScalars.allSatisfy({ safeUnquoted.contains($0) }) { return text }
        return "'" + text.replacingAll("'", with: "'\\''") + "'"
    }

    private static let safeUnquoted = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/=+:,@%".unicodeScalars)

    private static let longestName = Placeholder.allCases.map(\.rawValue.count).max() ?? 0

    private static func scan(_ command: String, _ found: (Placeholder, Range<String.Index>) -> Void) {
        var index = command.startIndex
        var previous: Character? = nil
        while index < command.endIndex {
            let character = command[index]
            if character == "{", previous != "$",
               let close = command[index...].prefix(longestName + 2).firstIndex(of: "}"),
               let placeholder = Placeholder(rawValue: String(command[command.index(after: index)..<close])) {
                found(placeholder, index..<command.index(after: close))
                previous = "}"
                index = command.index(after: close)
                continue
            }
            previous = character
            index = command.index(after: index)
        }
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
