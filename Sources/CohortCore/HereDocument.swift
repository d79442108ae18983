/// For `CommandTemplate`: a here-document (`<<END`, `<<-END`, `<<'END'`) of a
/// `run:` line, whose body's placeholders are quoted for the body.
struct HereDocument {
    var delimiter: String
    /// `<<-`: leading tabs are stripped from body lines and the delimiter line.
    var stripsTabs: Bool
    /// The delimiter was quoted: the body is not expanded.
    var literal: Bool

    /// The `<<WORD` at `index` (not `<<<`), and the index after WORD.
    static func start(in command: String, at index: String.Index) -> (HereDocument, String.Index)? {
        var cursor = command.index(after: index)
        guard cursor < command.endIndex, command[cursor] == "<" else { return nil }
        cursor = command.index(after: cursor)
        guard cursor < command.endIndex, command[cursor] != "<" else { return nil }
        var document = HereDocument(delimiter: "", stripsTabs: false, literal: false)
        if command[cursor] == "-" {
            document.stripsTabs = true
            cursor = command.index(after: cursor)
        }
        while cursor < command.endIndex, command[cursor] == " " || command[cursor] == "\t" { cursor = command.index(after: cursor) }
        var quote: Character? = nil
        while cursor < command.endIndex {
            let character = command[cursor]
            if let open = quote {
                if character == open { quote = nil } else { document.delimiter.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                document.literal = true
            } else if character == "\\" {
                document.literal = true
            } else if character.isWhitespace || ";|&<>()".contains(character) {
                break
            } else {
                document.delimiter.append(character)
            }
            cursor = command.index(after: cursor)
        }
        return document.delimiter.isEmpty ? nil : (document, cursor)
    }

    /// Reports each `{word}` of the body that starts at `index`; returns the index after the delimiter line.
    func scanBody(_ command: String, from start: String.Index, _ found: (String, Range<String.Index>) -> Void) -> String.Index {
        var index = start
        while index < command.endIndex {
            let lineEnd = command[index...].firstIndex(of: "\n") ?? command.endIndex
            let line = command[index..<lineEnd]
            let next = lineEnd < command.endIndex ? command.index(after: lineEnd) : lineEnd
            if (stripsTabs ? line.drop { $0 == "\t" } : line) == delimiter[...] { return next }
            var cursor = index
            var previous: Character? = nil
            while cursor < lineEnd {
                if command[cursor] == "{", previous != "$", let (word, end) = CommandTemplate.braceWord(command, at: cursor), end <= lineEnd {
                    found(word, cursor..<end)
                    previous = "}"
                    cursor = end
                    continue
                }
                previous = command[cursor]
                cursor = command.index(after: cursor)
            }
            index = next
        }
        return command.endIndex
    }
}
