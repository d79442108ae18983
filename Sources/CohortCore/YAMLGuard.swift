/// Checks run on job-file text before Yams sees it. Yams has no depth limit
/// (deep nesting overflows its recursive composer's stack) and large inputs
/// cost gigabytes (NOTES-YAML), so both are bounded here, cheaply.
enum YAMLGuard {
    static let maximumBytes = JobLoader.maximumBytes
    static let maximumDepth = 64

    /// Why `text` must not be parsed, with the line it concerns; nil when fine.
    ///
    /// The depth is an over-estimate, never an under-estimate: open flow
    /// brackets (also those inside what looks like a quoted scalar, until it
    /// closes), plus indentation levels, plus block indicators (`- `, `? `,
    /// `: `) on the line. Real job files stay far below the limit.
    ///
    /// Aliases are refused outright: expanding them is exponential (alias
    /// bombs), and Yams hashes alias-built mapping keys while composing.
    static func problem(with text: String) -> (line: Int, message: String)? {
        let utf8 = text.utf8
        if utf8.count > maximumBytes {
            return (1, "the file is \(utf8.count) bytes; job files are limited to \(maximumBytes) bytes")
        }
        var scan = Scan()
        for byte in utf8 {
            scan.consume(byte)
            if scan.depth > maximumDepth {
                return (scan.line, "nesting deeper than \(maximumDepth) levels")
            }
            if scan.sawAlias {
                return (scan.line, "YAML aliases (*name) are not supported in job files")
            }
        }
        return nil
    }

    private struct Scan {
        var line = 1
        var flowDepth = 0
        var indentStack: [Int] = [0]
        var atLineStart = true
        var indent = 0
        var indicatorsOnLine = 0
        var quote: UInt8? = nil
        var bracketsInQuote = 0
        var inComment = false
        var previous: UInt8 = 0x20
        /// Last non-blank byte on this line; 0 at the line's start.
        var lastSignificant: UInt8 = 0
        var sawAlias = false
        /// Indentation of the line that opened a block scalar (`run: |`); lines
        /// indented deeper are its text, not YAML structure.
        var blockScalarParent: Int? = nil
        var blockIndicatorPending = false
        var lineIndent = 0
        var skippingLine = false

        /// Whether a byte here would begin a new node (YAML indicators can only start one there).
        var startsToken: Bool {
            [0, 0x3A, 0x2D, 0x5B, 0x7B, 0x2C, 0x3F].contains(lastSignificant)
                && (previous == 0x20 || previous == 0x09 || previous == 0x5B || previous == 0x7B || previous == 0x2C || lastSignificant == 0)
        }

        var depth: Int { flowDepth + bracketsInQuote + indentStack.count - 1 + indicatorsOnLine }

        mutating func consume(_ byte: UInt8) {
            if byte == 0x0A {
                if blockIndicatorPending && !skippingLine { blockScalarParent = lineIndent }
                blockIndicatorPending = false
                skippingLine = false
                line += 1
                atLineStart = true
                indent = 0
                indicatorsOnLine = 0
                inComment = false
                quote = nil  // a scalar quoted over several lines is then counted as plain: an over-estimate
                bracketsInQuote = 0
                previous = 0x20
                lastSignificant = 0
                return
            }
            if atLineStart {
                if byte == 0x20 {
                    indent += 1
                    return
                }
                atLineStart = false
                lineIndent = indent
                if let parent = blockScalarParent {
                    if indent > parent || byte == 0x0D {
                        skippingLine = true
                    } else {
                        blockScalarParent = nil
                    }
                }
                if !skippingLine && byte != 0x23 && byte != 0x0D {  // comment and blank lines keep the indentation
                    while let top = indentStack.last, top > indent { indentStack.removeLast() }
                    if indent > (indentStack.last ?? 0) { indentStack.append(indent) }
                }
            }
            defer {
                previous = byte
                if byte != 0x20 && byte != 0x09 { lastSignificant = byte }
            }
            if inComment || skippingLine { return }
            if blockIndicatorPending, !((byte == 0x23 && (previous == 0x20 || previous == 0x09)) || byte == 0x2D || byte == 0x2B || (0x30...0x39).contains(byte) || byte == 0x20 || byte == 0x09 || byte == 0x0D) {
                blockIndicatorPending = false
            }
            if let open = quote {
                switch byte {
                case open:
                    quote = nil
                    bracketsInQuote = 0
                case 0x5B, 0x7B: bracketsInQuote += 1
                case 0x5D, 0x7D: bracketsInQuote = max(0, bracketsInQuote - 1)
                default: break
                }
                return
            }
            switch byte {
            case 0x23 where previous == 0x20 || previous == 0x09 || lastSignificant == 0:  // '#'
                inComment = true
            case 0x22, 0x27:  // '"' and '\''
                if startsToken { quote = byte }
            case 0x2A where startsToken:  // '*' where a node begins: an alias
                sawAlias = true
            case 0x7C where startsToken, 0x3E where startsToken:  // '|' '>' where a node begins: a block scalar, if the line ends here
                blockIndicatorPending = true
            case 0x5B, 0x7B:  // '[' '{'
                flowDepth += 1
            case 0x5D, 0x7D:  // ']' '}'
                flowDepth = max(0, flowDepth - 1)
            case 0x20 where previous == 0x2D || previous == 0x3F || previous == 0x3A:  // "- ", "? ", ": "
                indicatorsOnLine += 1
            default:
                break
            }
        }
    }
}
