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
    /// Commands that run the rest of their words as a command.
    static let wrappers: Set<String> = ["env", "exec", "nice", "time", "nohup", "command", "stdbuf", "ionice", "taskset"]
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

    public static func analyse(_ command: String) -> Analysis {
        var analysis = Analysis()
        let commands = simpleCommands(command)
        for (position, words) in commands.enumerated() {
            var rest = words[...]
            while let first = rest.first, case .plain(let text) = first, isAssignment(text) { rest = rest.dropFirst() }
            while let first = rest.first, case .plain(let text) = first, wrappers.contains(text) {
                rest = rest.dropFirst()
                while let next = rest.first, case .plain(let text) = next, text.hasPrefix("-") || isAssignment(text) {
                    rest = rest.dropFirst()
                    if ["-n", "-u", "-c", "-o", "-e", "-i", "-p"].contains(text) { rest = rest.dropFirst() }
                }
            }
            guard let commandWord = rest.first else { continue }
            guard case .plain(let name) = commandWord else {
                analysis.untracked = analysis.untracked ?? "its command is built from a variable or a placeholder"
                continue
            }
            if name == "cd" || name == "pushd" {
                // Later paths are relative to a folder only the shell knows.
                if position < commands.count - 1 {
                    analysis.untracked = analysis.untracked ?? "it changes folder (cd) before what it runs"
                }
                break
            }
            if name.contains("/") {
                analysis.scripts.append(Script(path: name, direct: true))
                continue
            }
            guard interpreters.contains(name) else { continue }
            rest = rest.dropFirst()
            var inline = false
            while let next = rest.first, case .plain(let option) = next, option.hasPrefix("-") {
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
        /// Holds an expansion (variable, placeholder, command, glob): its value is not known here.
        case unknown
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
            if inWord { words.append(known ? .plain(text) : .unknown) }
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
            case "<", ">", "(", ")":
                // Redirections and subshells: the simple reading stops here.
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
