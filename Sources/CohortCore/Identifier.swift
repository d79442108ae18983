/// Names that become folder names and shell words: study, subjects,
/// sessions, stages. `[A-Za-z0-9._-]+`, never `.` or `..`.
public enum Identifier {
    /// Why `text` is not a safe identifier, or nil when it is.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text == "." || text == ".." { return "\"\(text)\" is not allowed" }
        if text.utf8.count > 200 { return "is longer than 200 characters" }
        for scalar in text.unicodeScalars where !isAllowed(scalar) {
            return "\(quoted(text)) contains \(describe(scalar)); use only letters, digits, '.', '_' and '-'"
        }
        return nil
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }

    /// Why `text` is not a shell variable name, or nil.
    public static func variableNameProblem(with text: String) -> String? {
        guard let first = text.unicodeScalars.first else { return "must not be empty" }
        let ok = text.unicodeScalars.allSatisfy { isAllowed($0) && $0 != "." && $0 != "-" }
            && !("0"..."9").contains(first)
        return ok ? nil : "\(quoted(text)) is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        if scalar == " " { return "a space" }
        if scalar == "/" { return "'/'" }
        if scalar.value < 0x20 || scalar.value == 0x7f { return "a control character" }
        return "'\(scalar)'"
    }
}

/// `text` in double quotes, with control characters escaped, for messages.
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars.prefix(80) {
        if scalar == "\"" || scalar == "\\" { out += "\\" }
        out += escaped(String(scalar))
    }
    if text.unicodeScalars.count > 80 { out += "..." }
    return out + "\""
}

/// `text` with control characters escaped (`\n`, `\u{1b}`), for names
/// from disk that a message shows unquoted, such as a path.
func escaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
