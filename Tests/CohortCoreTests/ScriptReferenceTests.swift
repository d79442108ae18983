import CohortCore
import Testing

/// Which module scripts a `run:` line runs: their content is part of the
/// stage's definition, so a form read wrongly means an edit that reruns nothing.
@Suite struct ScriptReferenceTests {
    typealias Script = ScriptReference.Script

    @Test(arguments: [
        ("modules/a.sh {subject}", [Script(path: "modules/a.sh", direct: true)]),
        ("./a.sh", [Script(path: "./a.sh", direct: true)]),
        ("sh modules/a.sh", [Script(path: "modules/a.sh", direct: false)]),
        ("sh -e modules/a.sh", [Script(path: "modules/a.sh", direct: false)]),
        ("bash -x -- modules/a.sh x", [Script(path: "modules/a.sh", direct: false)]),
        ("bash -o pipefail modules/a.sh", [Script(path: "modules/a.sh", direct: false)]),
        ("python3 -u modules/b.py", [Script(path: "modules/b.py", direct: false)]),
        ("python3 -W ignore modules/b.py --in {workdir}", [Script(path: "modules/b.py", direct: false)]),
        ("FOO=1 modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("env FOO=1 BAR=2 sh modules/a.sh", [Script(path: "modules/a.sh", direct: false)]),
        ("exec modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("nice -n 5 time modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("modules/a.sh; true", [Script(path: "modules/a.sh", direct: true)]),
        ("modules/a.sh && modules/b.sh > log.txt", [Script(path: "modules/a.sh", direct: true), Script(path: "modules/b.sh", direct: true)]),
        ("'modules/my script.sh' x", [Script(path: "modules/my script.sh", direct: true)]),
        ("\"modules/my script.sh\"", [Script(path: "modules/my script.sh", direct: true)]),
        ("modules/my\\ script.sh", [Script(path: "modules/my script.sh", direct: true)]),
        ("echo hi > log; modules/b.sh 2>&1", [Script(path: "modules/b.sh", direct: true)]),
        ("if true; then modules/a.sh; fi", [Script(path: "modules/a.sh", direct: true)]),
        ("for f in a b; do sh modules/a.sh $f; done", [Script(path: "modules/a.sh", direct: false)]),
        ("! modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("env -i modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("time -p modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("exec -a name modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("timeout -s INT 10m modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("/usr/bin/env python3 tools/x.py", [Script(path: "tools/x.py", direct: false)]),
        ("OMP_NUM_THREADS=$COHORT_THREADS modules/a.sh", [Script(path: "modules/a.sh", direct: true)]),
        ("echo hi # modules/not.sh", []),
        ("fslmaths in.nii -s 2 out.nii", []),
        ("python3 -c 'import x'", []),
        ("python3 -m pkg.tool", []),
        ("Rscript -e 'x <- 1'", []),
    ])
    func scriptsAreFoundAsTheShellRunsThem(_ line: String, _ expected: [Script]) {
        let analysis = ScriptReference.analyse(line)
        #expect(analysis.scripts == expected, "\(line)")
        #expect(analysis.untracked == nil, "\(line)")
    }

    /// What cannot be named for sure is said to be untracked, never guessed.
    @Test(arguments: [
        "modules/{subject}.sh",
        "sh $SCRIPT",
        "cd modules && ./a.sh",
        "\"$HOME/a.sh\"",
    ])
    func scriptsThatCannotBeNamedAreUntracked(_ line: String) {
        #expect(ScriptReference.analyse(line).untracked != nil, "\(line)")
    }
}
