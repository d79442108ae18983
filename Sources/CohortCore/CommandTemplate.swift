/// `{subject}`, `{session}`, `{study}` and `{workdir}` in a stage's `run:`
/// line. Each is replaced by its value quoted for the place it stands in
/// the shell line, so a value never becomes shell syntax and always stays
/// one word: single-quoted where it stands bare, backslash-escaped inside
/// double quotes (`"{workdir}/x"` works with spaces in the path), and with
/// its own single quotes escaped inside single quotes. `${VAR}` is the
/// shell's and left alone.
public enum CommandTemplate {
    public enum Placeholder: String, CaseIterable, Sendable {
        case study, subject, session, workdir, item
    }

    /// Where in the shell's quoting a placeholder stands: its innermost
    /// quotes, and how many `` `…` `` enclose it (the shell unescapes the
    /// text of each once before running it).
    struct Quoting: Equatable, Sendable {
        enum Base: Equatable, Sendable {
            case bare, doubleQuoted, singleQuoted
            /// In a here-document's body: expanded like double quotes, or
            /// taken literally when its delimiter is quoted (`<<'END'`).
            case hereDocument(literal: Bool)
        }
        var base: Base
        var backquotes = 0
    }

    /// The placeholders `command` uses, in order of appearance.
    public static func placeholders(in command: String) -> [Placeholder] {
        var found: [Placeholder] = []
        scan(command) { word, _, _ in
            if let placeholder = Placeholder(rawValue: word) { found.append(placeholder) }
        }
        return found
    }

    /// Words in braces that look like a mistyped placeholder (`{subjct}`,
    /// `{Subject}`, `{ses}`), each with the placeholder it resembles.
    /// Other braces (`awk '{print}'`, `find -exec {} ;`) are the shell's or a tool's.
    public static func mistypedPlaceholders(in command: String) -> [(word: String, meant: Placeholder)] {
        var found: [(String, Placeholder)] = []
        scan(command) { word, _, quoting in
            // Inside '…' a brace is as often a tool's own ('{print}', Python's '{sub}'.format).
            guard Placeholder(rawValue: word) == nil, quoting.base != .singleQuoted,
                  quoting.base != .hereDocument(literal: true) else { return }
            let lower = word.lowercased()
            let meant = Placeholder.allCases.first { $0.rawValue == lower }
                ?? Placeholder.allCases.first { lower.count >= 3 && $0.rawValue.hasPrefix(lower) }
                ?? Placeholder.allCases.first { editDistance(lower, $0.rawValue, limit: 3) <= 2 }
            if let meant { found.append((word, meant)) }
        }
        return found
    }

    /// `command` with each placeholder replaced by `value(placeholder)`, quoted for where it stands.
    public static func substitute(_ command: String, _ value: (Placeholder) -> String) -> String {
        Compiled(command).substitute(value)
    }

    /// A `run` line read once: its text cut at its placeholders, each with
    /// the quoting it stands in, so every instance of a stage is a few
    /// appends (workers substitute tens of thousands a second).
    public struct Compiled: Equatable, Sendable {
        enum Piece: Equatable, Sendable {
            case text(String)
            case placeholder(Placeholder, Quoting)
        }
        let pieces: [Piece]

        public init(_ command: String) {
            var pieces: [Piece] = []
            var copiedUpTo = command.startIndex
            scan(command) { word, range, quoting in
                guard let placeholder = Placeholder(rawValue: word) else { return }
                pieces.append(.text(String(command[copiedUpTo..<range.lowerBound])))
                pieces.append(.placeholder(placeholder, quoting))
                copiedUpTo = range.upperBound
            }
            pieces.append(.text(String(command[copiedUpTo...])))
            self.pieces = pieces
        }

        public func substitute(_ value: (Placeholder) -> String, quoting: Bool = true) -> String {
            var result = ""
            for piece in pieces {
                switch piece {
                case .text(let text): result += text
                case .placeholder(let placeholder, let quote): result += quoting ? quoted(value(placeholder), quote) : value(placeholder)
                }
            }
            return result
        }
    }

    /// `path` (not a command: `until:`) with each placeholder replaced by
    /// its value as it is, unquoted.
    public static func filledIn(_ path: String, _ value: (Placeholder) -> String) -> String {
        Compiled(path).substitute(value, quoting: false)
    }

    /// `text` as one shell word: single-quoted, embedded quotes as `'\''`.
    public static func shellQuoted(_ text: String) -> String {
        if !text.isEmpty, text.unicodeScalars.allSatisfy({ safeUnquoted.contains($0) }) { return text }
        return "'" + text.replacingAll("'", with: "'\\''") + "'"
    }

    static func quoted(_ text: String, _ quoting: Quoting) -> String {
        var out: String
        switch quoting.base {
        case .bare:
            out = shellQuoted(text)
        case .doubleQuoted:
            out = escaping(text, ["\\", "\"", "$", "`"])
        case .singleQuoted:
            out = text.replacingAll("'", with: "'\\''")
        case .hereDocument(literal: false):
            out = escaping(text, ["\\", "$", "`"])
        case .hereDocument(literal: true):
            out = text
        }
        for _ in 0..<quoting.backquotes { out = escaping(out, ["\\", "`", "$"]) }
        return out
    }

    private static func escaping(_ text: String, _ special: Set<Character>) -> String {
        var out = ""
        for character in text {
            if special.contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    private static let safeUnquoted = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/=+:,@%".unicodeScalars)

    /// Longest word in braces worth reporting (placeholders are short).
    private static let longestWord = 24

    /// Calls `found` for every `{word}` (word: letters, digits, `_`, starting
    /// with a letter or `_`) that is not `${…}`, with the quoting it stands in.
    /// Follows `'…'`, `"…"`, backslashes, `$(…)`, backquotes, `#` comments
    /// and here-documents (`<<END`, `<<-END`, `<<'END'`) as `sh` does.
    private static func scan(_ command: String, _ found: (String, Range<String.Index>, Quoting) -> Void) {
        enum Context: Equatable {
            case bare, double, single, backquote
            /// `$(…)`, or `$((…))` (arithmetic: `<<` there is a shift), with `(` nesting.
            case substitution(depth: Int, arithmetic: Bool)
        }
        var stack: [Context] = [.bare]
        var index = command.startIndex
        var previous: Character? = nil
        var hereDocuments: [HereDocument] = []
        while index < command.endIndex {
            let character = command[index]
            let context = stack[stack.count - 1]
            let following = command.index(after: index)
            var skipNext = false
            let outsideQuotes = context != .single && context != .double
            let inArithmetic = stack.contains { if case .substitution(_, true) = $0 { true } else { false } }
            if outsideQuotes, character == "<", command[index...].hasPrefix("<<<") {
                // A here-string (bash): its word is an ordinary word.
                previous = "<"
                index = command.index(index, offsetBy: 3)
                continue
            }
            if outsideQuotes, !inArithmetic, character == "<", let (document, end) = HereDocument.start(in: command, at: index) {
                hereDocuments.append(document)
                previous = "x"
                index = end
                continue
            }
            if outsideQuotes, character == "\n", !hereDocuments.isEmpty {
                let backquotes = stack.filter { $0 == .backquote }.count
                index = following
                for document in hereDocuments {
                    index = document.scanBody(command, from: index) { word, range in
                        found(word, range, Quoting(base: .hereDocument(literal: document.literal), backquotes: backquotes))
                    }
                }
                hereDocuments = []
                previous = "\n"
                continue
            }
            if character == "{", previous != "$", let (word, end) = braceWord(command, at: index) {
                let base: Quoting.Base = switch context {
                case .single: .singleQuoted
                case .double: .doubleQuoted
                case .bare, .substitution, .backquote: .bare
                }
                found(word, index..<end, Quoting(base: base, backquotes: stack.filter { $0 == .backquote }.count))
                previous = "}"
                index = end
                continue
            }
            if context == .single {
                if character == "'" { stack.removeLast() }
            } else if character == "#", context != .double, previous == nil || previous!.isWhitespace || previous == ";" {
                // A comment: nothing in it is shell syntax (an apostrophe there opens no quote).
                while index < command.endIndex, command[index] != "\n" { index = command.index(after: index) }
                previous = "\n"
                continue
            } else if character == "\\" {
                skipNext = true
            } else if character == "$", following < command.endIndex, command[following] == "(" {
                let afterParenthesis = command.index(after: following)
                let arithmetic = afterParenthesis < command.endIndex && command[afterParenthesis] == "("
                stack.append(.substitution(depth: 0, arithmetic: arithmetic))
                skipNext = true
            } else if character == "`" {
                if context == .backquote { stack.removeLast() } else { stack.append(.backquote) }
            } else if context == .double {
                if character == "\"" { stack.removeLast() }
            } else if character == "'" {
                stack.append(.single)
            } else if character == "\"" {
                stack.append(.double)
            } else if case .substitution(let depth, let arithmetic) = context, character == "(" || character == ")" {
                if character == "(" {
                    stack[stack.count - 1] = .substitution(depth: depth + 1, arithmetic: arithmetic)
                } else if depth == 0 {
                    stack.removeLast()
                } else {
                    stack[stack.count - 1] = .substitution(depth: depth - 1, arithmetic: arithmetic)
                }
            }
            previous = character
            index = following
            if skipNext, index < command.endIndex {
                previous = command[index]
                index = command.index(after: index)
            }
        }
    }

    /// The `{word}` starting at `open`, and the index after its `}`.
    static func braceWord(_ command: String, at open: String.Index) -> (String, String.Index)? {
        var word = ""
        var index = command.index(after: open)
        while index < command.endIndex, word.count <= longestWord {
            let character = command[index]
            if character == "}" {
                guard let first = word.first, first.isLetter || first == "_" else { return nil }
                return (word, command.index(after: index))
            }
            guard character.isASCII, character.isLetter || character.isNumber || character == "_" else { return nil }
            word.append(character)
            index = command.index(after: index)
        }
        return nil
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
