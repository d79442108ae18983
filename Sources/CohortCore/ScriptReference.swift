/// The script a `run:` line starts, when it plainly names one: its first
/// word if that is a path (`modules/realign.sh …`), or the script given to
/// an interpreter (`sh modules/realign.sh …`, `python3 tools/qc.py …`).
/// Used to refuse a job whose module script is missing before anything
/// runs; lines it cannot read simply (variables, quotes, pipes first) are left alone.
public enum ScriptReference {
    static let interpreters: Set<String> = ["sh", "bash", "dash", "zsh", "python", "python3", "Rscript", "perl", "ruby", "julia", "tclsh"]

    public static func path(in command: String) -> String? {
        reference(in: command)?.path
    }

    /// The script and whether the shell runs it directly (then it must be
    /// executable) rather than through an interpreter.
    public static func reference(in command: String) -> (path: String, direct: Bool)? {
        let words = leadingWords(command)
        guard let first = words.first else { return nil }
        if first.contains("/") { return (first, true) }
        if interpreters.contains(first), words.count > 1, !words[1].hasPrefix("-"), looksLikeFile(words[1]) {
            return (words[1], false)
        }
        return nil
    }

    private static func looksLikeFile(_ word: String) -> Bool {
        word.contains("/") || [".sh", ".py", ".R", ".r", ".pl", ".rb", ".jl", ".tcl", ".bash"].contains { word.hasSuffix($0) }
    }

    /// Plain words before anything the shell would interpret; placeholders
    /// and variables end it too, since their values are not known here.
    private static func leadingWords(_ command: String) -> [String] {
        var words: [String] = []
        for word in command.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).prefix(2) {
            if word.contains(where: { "$`'\"\\;|&<>(){}*?[]~=#".contains($0) }) { break }
            words.append(String(word))
        }
        return words
    }
}
