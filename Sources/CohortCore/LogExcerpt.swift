/// The last lines of a module's log as the summary and `cohort status`
/// show them on a terminal: control characters escaped (a module's ESC or
/// BEL bytes must not recolour, move or beep the user's terminal), long
/// lines cut with a mark that says so, and an empty log said to be empty.
public enum LogExcerpt {
    /// Characters of a line shown before it is cut.
    public static let longestLine = 240

    public static func lines(_ tail: String) -> [String] {
        let lines = tail.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard lines.contains(where: { !$0.allSatisfy(\.isWhitespace) }) else { return ["(empty)"] }
        return lines.map { readable(String($0)) }
    }

    /// `line` with control characters as `\xNN` and cut after `longestLine` characters.
    public static func readable(_ line: String) -> String {
        var out = ""
        var shown = 0
        let scalars = Array(line.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            if shown >= longestLine {
                out += " … (cut: \(scalars.count - index) more characters)"
                break
            }
            let value = scalar.value
            if scalar != "\t" && (value < 0x20 || value == 0x7f || (0x80...0x9f).contains(value)) {
                let digits = String(value, radix: 16)
                out += "\\x" + (digits.count < 2 ? "0" + digits : digits)
            } else {
                out.unicodeScalars.append(scalar)
            }
            shown += 1
        }
        return out
    }
}
