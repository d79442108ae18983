/// A `run` line that needs no shell, as GNU make decides it: plain words
/// separated by blanks — no quoting, expansion, globbing, redirection,
/// comment or second command — whose first word names a program, not a
/// shell builtin, keyword or variable assignment. Such a line is run
/// directly (the worker saves an exec of `/bin/sh` per instance, most of
/// what a short module costs); anything else runs as `/bin/sh -c LINE`,
/// which behaves the same for these lines.
public enum DirectCommand {
    /// The program and its arguments, or nil when the line needs a shell.
    /// `environment`: the module's; a shell function exported in it (bash's
    /// `BASH_FUNC_NAME%%`, as Lmod's `ml`) is run by the shell too.
    public static func words(of line: String, environment: [String: String] = [:]) -> [String]? {
        guard line.unicodeScalars.allSatisfy({ plain.contains($0) || $0 == " " || $0 == "\t" }) else { return nil }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first, !shellWords.contains(first), !first.contains("="), !first.hasPrefix("-"),
              environment["BASH_FUNC_\(first)%%"] == nil, environment["BASH_FUNC_\(first)()"] == nil else { return nil }
        return words
    }

    /// Characters that mean the same to the shell inside a word as outside
    /// one (the set `CommandTemplate.shellQuoted` leaves unquoted).
    private static let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/=+:,@%".unicodeScalars)

    /// What the shell itself does rather than run a program of that name:
    /// POSIX special builtins, dash's and bash's other builtins (`/bin/sh`
    /// is bash on some clusters), and keywords.
    private static let shellWords: Set<String> = [
        ".", ":", "[", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "chdir", "command", "compgen", "complete",
        "compopt", "continue", "declare", "dirs", "disown", "echo", "enable", "eval", "exec", "exit", "export", "false", "fc",
        "fg", "getopts", "hash", "help", "history", "jobs", "kill", "let", "local", "logout", "mapfile", "popd", "printf",
        "pushd", "pwd", "read", "readarray", "readonly", "return", "set", "shift", "shopt", "source", "suspend", "test",
        "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait",
        "coproc", "[[", "]]",
        "case", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in", "select", "then", "time",
        "until", "while",
    ]
}
