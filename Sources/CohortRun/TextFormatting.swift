#if canImport(Glibc)
import Glibc
#endif

/// `1h02m`, `5m30s`, `42s` (`0.35s` below ten seconds when `precise`).
func duration(_ seconds: Double, precise: Bool = false) -> String {
    if precise && seconds < 10 { return format(max(0, seconds), decimals: 2) + "s" }
    let total = Int(max(0, seconds.rounded()))
    func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
    if total >= 3600 { return "\(total / 3600)h\(twoDigits(total % 3600 / 60))m" }
    if total >= 60 { return "\(total / 60)m\(twoDigits(total % 60))s" }
    return "\(total)s"
}

func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + padding : padding + text
}

func format(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "?" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = abs(scaled % Int64(scale))
    guard decimals > 0 else { return String(whole) }
    let digits = String(fraction)
    return "\(scaled < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: decimals - digits.count))\(digits)"
}
