/// Parsing of the numbers users write in job files and on the command line.
/// Every number is parsed from text here: Yams' own integer conversion traps
/// on some inputs (NOTES-YAML), and a typo must never be a crash.
public enum Quantity {
    /// A memory size like `512M`, `4G`, `16GB`, `1.5GiB` or `1048576` (bytes),
    /// in bytes. Binary units (K = 1024). Nil when malformed or out of range.
    public static func bytes(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingSpaces())
        var unit: Int64 = 1
        let upper = digits.uppercased()
        let suffixes: [(String, Int64)] = [
            ("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30), ("TIB", 1 << 40),
            ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("TB", 1 << 40),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40), ("B", 1),
        ]
        for (suffix, factor) in suffixes where upper.hasSuffix(suffix) {
            unit = factor
            digits = digits.dropLast(suffix.count)
            break
        }
        digits = Substring(String(digits).trimmingSpaces())
        guard !digits.isEmpty, digits.count <= 24,
              digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              digits.filter({ $0 == "." }).count <= 1
        else { return nil }
        if let whole = Int64(digits) {
            let (product, overflow) = whole.multipliedReportingOverflow(by: unit)
            return overflow ? nil : product
        }
        guard let value = Double(digits), value.isFinite else { return nil }
        let product = (value * Double(unit)).rounded()
        return Int64(exactly: product)
    }

    /// A duration like `90s`, `30m`, `2h`, `1h30m`, `1d` or `45` (seconds), in
    /// seconds; nil when malformed, zero, or longer than a year.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.count <= 32 else { return nil }
        if let plain = integer(trimmed, in: 1...31_536_000) { return Double(plain) }
        var total = 0
        var digits = ""
        for character in trimmed {
            if character.isASCII && character.isNumber {
                digits.append(character)
                continue
            }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            guard let value = Int(digits), digits.count <= 9 else { return nil }
            total += value * unit
            digits = ""
        }
        guard digits.isEmpty, total > 0, total <= 31_536_000 else { return nil }
        return Double(total)
    }

    /// A whole number in `range`, written in decimal.
    public static func integer(_ text: String, in range: ClosedRange<Int>) -> Int? {
        let trimmed = text.trimmingSpaces()
        guard trimmed.count <= 19, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int(trimmed), range.contains(value)
        else { return nil }
        return value
    }

    /// A whole number in `range`, possibly negative.
    public static func signedInteger(_ text: String, in range: ClosedRange<Int>) -> Int? {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasPrefix("-") {
            guard let magnitude = integer(String(trimmed.dropFirst()), in: 0...Int.max - 1) else { return nil }
            return range.contains(-magnitude) ? -magnitude : nil
        }
        return integer(trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed, in: range)
    }

    /// `bytes` for people: `512M`, `4G`, `1.5G`.
    public static func describe(bytes: Int64) -> String {
        let units: [(String, Int64)] = [("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]
        for (name, factor) in units where bytes >= factor {
            let value = Double(bytes) / Double(factor)
            if value == value.rounded() { return "\(Int64(value))\(name)" }
            return "\((value * 10).rounded() / 10)\(name)"
        }
        return "\(bytes)B"
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
