import CohortCore
import CohortTesting
import Testing

/// Placeholders in `run:` lines, substituted for where they stand in the
/// shell's quoting, and checked by running the result through a real `sh`.
@Suite struct CommandTemplateTests {
    /// A workdir a user could really have, with every character the shell treats specially.
    static let nastyPath = "/tmp/a b/it's \"q\" $HOME \\back `tick` *.x {y}/ses"

    /// What `sh -c` prints for `command` with `{workdir}` substituted.
    func shellOutput(_ command: String) throws -> String {
        let line = CommandTemplate.substitute(command) { _ in Self.nastyPath }
        let result = try ChildProcess.run(["/bin/sh", "-c", line])
        #expect(result.code == 0, "\(line): \(result.stderr)")
        return result.stdout
    }

    @Test(arguments: [
        #"printf '%s\n' {workdir}"#,
        #"printf '%s\n' "{workdir}""#,
        #"printf '%s\n' '{workdir}'"#,
        #"printf '%s\n' "$(printf '%s' "{workdir}")""#,
        #"x=`printf '%s' {workdir}`; printf '%s\n' "$x""#,
        #"printf '%s\n' "$(printf '%s' '{workdir}')""#,
        #"x=`printf '%s' "{workdir}"`; printf '%s\n' "$x""#,
        #"x=`printf '%s' '{workdir}'`; printf '%s\n' "$x""#,
        "# don't mind this comment\nprintf '%s\\n' {workdir} # nor this one's",
        "cat <<END\n{workdir}\nEND",
        "cat <<'END'\n{workdir}\nEND",
        "cat <<\"END\" | cat\n{workdir}\nEND\n",
        "cat <<-END\n\t{workdir}\n\tEND\ntrue",
        "cat <<A; cat <<B\n{workdir}\nA\n{workdir}\nB\n" + "printf '%s\\n' {workdir} >/dev/null",
        "n=$((1<<2))\nprintf '%s\\n' '{workdir}'",
        "n=$(( (1) << 2 )); printf '%s\\n' \"{workdir}\"",
    ])
    func theValueStaysOneWordInEveryQuoting(_ command: String) throws {
        let copies = command.hasPrefix("cat <<A") ? 2 : 1
        #expect(try shellOutput(command) == String(repeating: Self.nastyPath + "\n", count: copies))
    }

    /// bash's here-string is an ordinary word, not a here-document.
    @Test func aHereStringIsNotAHereDocument() {
        let line = "cat <<< \"{workdir}\"\necho {workdir}"
        #expect(CommandTemplate.placeholders(in: line) == [.workdir, .workdir])
        #expect(CommandTemplate.substitute(line) { _ in "a $b" } == "cat <<< \"a \\$b\"\necho 'a $b'")
    }

    @Test func placeholdersJoinTheTextAroundThem() throws {
        #expect(try shellOutput(#"printf '%s\n' "{workdir}/out.nii" "#) == Self.nastyPath + "/out.nii\n")
        #expect(try shellOutput(#"printf '%s\n' 'dir={workdir};'"#) == "dir=" + Self.nastyPath + ";\n")
    }

    @Test func shellVariablesAndEscapedBracesAreLeftAlone() {
        #expect(CommandTemplate.placeholders(in: "echo ${subject} \\{session} {study}") == [.study])
        let line = CommandTemplate.substitute("echo ${subject} {subject}") { _ in "sub-01" }
        #expect(line == "echo ${subject} sub-01")
    }

    @Test func mistypedPlaceholdersAreFoundAndOthersLeftAlone() {
        let found = CommandTemplate.mistypedPlaceholders(in: "run {subjct} {Session} {sub} {workdri} x")
        #expect(found.map(\.word) == ["subjct", "Session", "sub", "workdri"])
        #expect(found.map(\.meant) == [.subject, .session, .subject, .workdir])
        for command in ["awk '{print}' f", "python3 -c 'print(\"{sub}\".format(sub=1))'", "find . -exec rm {} \\;", "echo {a,b}", "echo ${subjct}", "echo {subject}",
                        "awk '{ n++ } END { print n }'", "echo {1..3}"] {
            #expect(CommandTemplate.mistypedPlaceholders(in: command).isEmpty, "\(command)")
        }
    }
}

/// Which run lines run without a shell (as GNU make decides).
@Suite struct DirectCommandTests {
    @Test func plainWordsRunDirectly() {
        #expect(DirectCommand.words(of: "/bin/true") == ["/bin/true"])
        #expect(DirectCommand.words(of: "modules/realign.sh sub-01 ses-pre") == ["modules/realign.sh", "sub-01", "ses-pre"])
        #expect(DirectCommand.words(of: "  fslmaths in.nii.gz -s 2 out.nii.gz\t--opt=x,y@z%  ") ==
            ["fslmaths", "in.nii.gz", "-s", "2", "out.nii.gz", "--opt=x,y@z%"])
    }

    @Test func anythingTheShellWouldInterpretNeedsIt() {
        for line in ["echo hi > out", "a | b", "a; b", "a && b", "cmd $HOME", "cmd 'quoted word'", "cmd \"x\"", "cmd *.nii",
                     "cmd ~/x", "cmd `date`", "cmd \\x", "a\nb", "cmd # note", "cmd {a,b}", "(cmd)", "cmd &", "cmd a?"] {
            #expect(DirectCommand.words(of: line) == nil, "\(line)")
        }
    }

    @Test func builtinsKeywordsAndAssignmentsNeedTheShell() {
        for line in ["true", "exit 3", "cd out", "chdir /", "pushd x", "export A=1", ". setup.sh", "test -f x", "[ -f x ]", "if",
                     "A=1 prog", "-x", "", "   "] {
            #expect(DirectCommand.words(of: line) == nil, "\(line)")
        }
    }

    @Test func anExportedShellFunctionNeedsTheShell() {
        #expect(DirectCommand.words(of: "ml fsl", environment: ["BASH_FUNC_ml%%": "() { module \"$@\"; }"]) == nil)
        #expect(DirectCommand.words(of: "ml fsl", environment: ["PATH": "/usr/bin"]) == ["ml", "fsl"])
    }
}
