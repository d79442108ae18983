import CohortCore
import Testing

@Suite struct LogExcerptTests {
    @Test func controlCharactersAreShownEscaped() {
        #expect(LogExcerpt.lines("\u{1b}[31mred\u{1b}[0m\u{07} done\r") == ["\\x1b[31mred\\x1b[0m\\x07 done"])
        #expect(LogExcerpt.readable("tab\tstays, \u{9b}C1 too") == "tab\tstays, \\x9bC1 too")
    }

    @Test func longLinesSayTheyWereCut() {
        let line = String(repeating: "x", count: LogExcerpt.longestLine + 60)
        #expect(LogExcerpt.readable(line) == String(repeating: "x", count: LogExcerpt.longestLine) + " … (cut: 60 more characters)")
        #expect(LogExcerpt.readable("short") == "short")
    }

    @Test func anEmptyLogSaysSo() {
        #expect(LogExcerpt.lines("") == ["(empty)"])
        #expect(LogExcerpt.lines(" \n\n") == ["(empty)"])
    }
}
