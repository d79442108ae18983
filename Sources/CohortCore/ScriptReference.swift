/// The module scripts a `run:` line runs, read the way the shell would read
/// its simple commands: a command word that is a path
/// (`modules/realign.sh …`), or the script an interpreter is given
/// (`sh -e modules/realign.sh`, `python3 -u tools/qc.py`), after variable
/// assignments and wrappers (`FOO=1 env nice -n 5 time …`), in every
/// command of the line (`modules/a.sh; modules/b.sh`). Their content is part
/// of the stage's definition (editing one reruns the stage), and `cohort
/// validate` refuses a missing one.
///
/// A script it cannot name for sure (a path built from a variable or a
/// placeholder, a command after `cd`) is reported as untracked, so that the
/// user hears that editing it will not rerun the stage.
public enum ScriptReference {
    static let interpreters: Set<String> = ["sh", "bash", "dash", "zsh", "ksh", "python", "python3", "Rscript", "perl",
                                            "ruby", "julia", "tclsh", "octave", "matlab"]
    /// Commands that run the rest of their words as a command: their options
    /// that take a value, and how many operands come before the command.
    static let wrappers: [String: (optionsWithValue: Set<String>, operands: Int)] = [
        "env": (["-u", "-C", "-S"], 0), "exec": (["-a"], 0), "nice": (["-n"], 0), "time": (["-f", "-o"], 0),
        "nohup": ([], 0), "command": ([], 0), "stdbuf": (["-i", "-o", "-e"], 0), "ionice": (["-c", "-n", "-p"], 0),
        "taskset": ([], 1), "timeout": (["-s", "-k"], 1), "srun": (["-n", "-N", "-c", "-p", "-t", "--ntasks"], 0),
    ]
    /// Interpreter options whose value is the next word.
    static let optionsWithValue: [String: Set<String>] = [
        "python": ["-W", "-X", "-Q"], "python3": ["-W", "-X", "-Q"], "sh": ["-o", "-O"], "bash": ["-o", "-O"],
        "dash": ["-o"], "zsh": ["-o"], "ksh": ["-o"], "julia": ["-t", "-p", "--project", "-J"], "perl": ["-I", "-M"],
    ]
    /// Interpreter options after which the code is on the line itself (part
    /// of the `run` line already) or a module found on a path.
    static let inlineCode: [String: Set<String>] = [
        "sh": ["-c"], "bash": ["-c"], "dash": ["-c"], "zsh": ["-c"], "ksh": ["-c"], "python": ["-c", "-m"], "python3": ["-c", "-m"],
        "perl": ["-e", "-E"], "Rscript": ["-e"], "ruby": ["-e"], "julia": ["-e", "-E"], "tclsh": [], "octave": ["--eval"],
        "matlab": ["-r", "-batch"],
    ]

    public struct Script: Equatable, Sendable {
        public var path: String
        /// The shell runs it directly (so it must be executable), not through an interpreter.
        public var direct: Bool

        public init(path: String, direct: Bool) {
            self.path = path
            self.direct = direct
        }
    }

    public struct Analysis: Equatable, Sendable {
        public var scripts: [Script] = []
        /// Why a script of the line is not tracked, when one is not.
        public var untracked: String?
    }

    /// The first script the line runs, if any.
    public static func path(in command: String) -> String? {
        analyse(command).scripts.first?.path
    }

    /// The script Cohort before whole-line reading (until November 2026)
    /// took a line to run: its first word if a plain path, or the second
    /// after a bare interpreter. Successes it journaled hold this script's
    /// digest (or none), and still count as current when it is unchanged.
    public static func pathAsReadBefore(in command: String) -> String? {
        var words: [String] = []
        for word in command.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).prefix(2) {
            if word.contains(where: { "$`'\"\\;|&<>(){}*?[]~=#".contains($0) }) { break }
            words.append(String(word))
        }
        guard let first = words.first else { return nil }
        if first.contains("/") { return first }
        if interpreters.contains(first), words.count > 1, !words[1].hasPrefix("-"), looksLikeFile(words[1]) { return words[1] }
        return nil
    }

    public static func analyse(_ command: String) -> Analysis {
        var analysis = Analysis()
        let commands = simpleCommands(command)
        for (position, words) in commands.enumerated() {
            var rest = words[...]
            func text(_ word: Word?) -> String? {
                switch word {
                case .plain(let text)?, .unknown(let text)?: text
                case nil: nil
                }
            }
            // Reserved words, assignments and wrappers come before the command itself.
            while let word = text(rest.first) {
                if reservedWords.contains(word) || isAssignment(word) {
                    rest = rest.dropFirst()
                } else if let wrapper = wrappers[commandName(word)] {
                    rest = rest.dropFirst()
                    while let option = text(rest.first), option.hasPrefix("-") || isAssignment(option) {
                        rest = rest.dropFirst()
                        if option == "--" { break }
                        if wrapper.optionsWithValue.contains(option) { rest = rest.dropFirst() }
                    }
                    rest = rest.dropFirst(wrapper.operands)
                } else {
                    break
                }
            }
            guard let commandWord = rest.first else { continue }
            guard case .plain(let path) = commandWord else {
                analysis.untracked = analysis.untracked ?? "its command is built from a variable or a placeholder"
                continue
            }
            let name = commandName(path)
            if name == "cd" || name == "pushd" {
                // Later paths are relative to a folder only the shell knows.
                if position < commands.count - 1 {
                    analysis.untracked = analysis.untracked ?? "it changes folder (cd) before what it runs"
                }
                break
            }
            guard interpreters.contains(name) else {
                if path.contains("/") { analysis.scripts.append(Script(path: path, direct: true)) }
                continue
            }
            rest = rest.dropFirst()
            var inline = false
            while let option = text(rest.first), option.hasPrefix("-") {
                rest = rest.dropFirst()
                if option == "--" { break }
                if inlineCode[name]?.contains(option) == true { inline = true; break }
                if optionsWithValue[name]?.contains(option) == true { rest = rest.dropFirst() }
            }
            guard !inline, let scriptWord = rest.first else { continue }
            switch scriptWord {
            case .plain(let path) where looksLikeFile(path):
                analysis.scripts.append(Script(path: path, direct: false))
            case .plain:
                break
            case .unknown:
                analysis.untracked = analysis.untracked ?? "its script's path is built from a variable or a placeholder"
            }
        }
        return analysis
    }

    /// Words before a command that are the shell's own (`if …; then CMD`, `! CMD`).
    static let reservedWords: Set<String> = ["if", "then", "else", "elif", "do", "while", "until", "!", "{"]

    /// `/usr/bin/env` and `/usr/bin/python3` are `env` and `python3`; a path elsewhere is itself.
    private static func commandName(_ word: String) -> String {
        guard word.hasPrefix("/usr/") || word.hasPrefix("/bin/") || word.hasPrefix("/opt/"),
              let slash = word.lastIndex(of: "/") else { return word }
        return String(word[word.index(after: slash)...])
    }

    private static func isAssignment(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        return word[..<equals].allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }

    private static func looksLikeFile(_ word: String) -> Bool {
        word.contains("/") || [".sh", ".py", ".R", ".r", ".pl", ".rb", ".jl", ".tcl", ".bash", ".m"].contains { word.hasSuffix($0) }
    }

    enum Word: Equatable {
        /// Its text after quote removal.
        case plain(String)
        /// Holds an expansion (variable, placeholder, command, glob): its
        /// value is not known here; its text as written.
        case unknown(String)
    }

    /// The words of each simple command of the line, up to the first
    /// construct this reader does not follow (a here-document, a subshell,
    /// a `for` loop): what comes after it is not looked at.
    static func simpleCommands(_ line: String) -> [[Word]] {
        var commands: [[Word]] = []
        var words: [Word] = []
        var text = ""
        var inWord = false
        var known = true
        let characters = Array(line)
        var index = 0
        func endWord() {
            if inWord { words.append(known ? .plain(text) : .unknown(text)) }
            text = ""
            inWord = false
            known = true
        }
        func endCommand() {
            endWord()
            if !words.isEmpty { commands.append(words) }
            words = []
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case " ", "\t":
                endWord()
            case "\n", ";", "&", "|":
                endCommand()
            case "#" where !inWord:
                while index < characters.count && characters[index] != "\n" { index += 1 }
                continue
            case "<", ">":
                // A redirection: its target is no word of the command (a here-document ends the reading).
                endWord()
                if character == "<", index + 1 < characters.count, characters[index + 1] == "<" {
                    endCommand()
                    return commands
                }
                while index + 1 < characters.count, "<>&|".contains(characters[index + 1]) { index += 1 }
                while index + 1 < characters.count, characters[index + 1] == " " || characters[index + 1] == "\t" { index += 1 }
                while index + 1 < characters.count, !" \t\n;&|<>()".contains(characters[index + 1]) { index += 1 }
            case "(", ")":
                // Subshells and functions: the simple reading stops here.
                endCommand()
                return commands
            case "\\":
                inWord = true
                index += 1
                if index < characters.count, characters[index] != "\n" { text.append(characters[index]) }
            case "'":
                inWord = true
                index += 1
                while index < characters.count && characters[index] != "'" {
                    text.append(characters[index])
                    index += 1
                }
            case "\"":
                inWord = true
                index += 1
                while index < characters.count && characters[index] != "\"" {
                    if "$`\\".contains(characters[index]) { known = false }
                    text.append(characters[index])
                    index += 1
                }
            case "$", "`", "{", "}", "*", "?", "[", "~":
                inWord = true
                known = false
                text.append(character)
            default:
                inWord = true
                text.append(character)
            }
            index += 1
        }
        endCommand()
        return commands
    }
}
