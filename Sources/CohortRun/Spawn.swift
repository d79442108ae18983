#if canImport(Glibc)
public import Glibc
#endif

/// Starts a program with `posix_spawn`: its stdin, stdout and stderr as
/// asked, a process group of its own, a clean signal mask.
///
/// The caller's thread may block signals (Swift Testing blocks SIGCHLD) and
/// children inherit the mask, so `sh -c '… & wait'` would hang: every child
/// gets an empty mask and default dispositions.
public enum Spawn {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The new process's pid: stdin from /dev/null, stdout and stderr to
    /// files. `path` is searched in PATH when it has no slash.
    public static func start(
        _ arguments: [String], environment: [String: String], stdout: String, stderr: String
    ) throws(Failure) -> pid_t {
        try start(arguments, environment: environment) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
    }

    /// The same with the child's stdin and stdout on these descriptors (pipes),
    /// its stderr this process's.
    static func start(
        _ arguments: [String], environment: [String: String], standardInput: Int32, standardOutput: Int32
    ) throws(Failure) -> pid_t {
        try start(arguments, environment: environment) { actions in
            posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
            posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        }
    }

    private static func start(
        _ arguments: [String], environment: [String: String],
        descriptors: (inout posix_spawn_file_actions_t) -> Void
    ) throws(Failure) -> pid_t {
        precondition(!arguments.isEmpty)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        descriptors(&actions)
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard code == 0 else {
            throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(code)))")
        }
        return pid
    }
}

/// This process's environment as a dictionary.
public func currentEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}
