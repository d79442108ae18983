import CohortTesting
import Testing

/// A program a test uses beyond Cohort (Graphviz's `dot`, Chromium), from
/// the PATH. Outside CI a missing one skips that check; under CI it is a
/// failure (scripts/test.sh installs them).
func testTool(_ name: String) -> String? {
    let found = ProcessEnvironment.which(name)
    if found == nil { #expect(!MPIHarness.isCI, "\(name) is missing (scripts/test.sh installs it)") }
    return found
}
