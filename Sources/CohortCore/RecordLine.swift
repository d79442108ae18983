/// One journal record's line being written as bytes (see `JournalFormat`):
/// `cohort1`, its kind and `key=value` fields, tab-separated, values
/// percent-escaped, then the CRC-32 of all that.
struct RecordLine {
    private var bytes: [UInt8]
    private let start: Int

    /// Takes `bytes` over (so that appending never copies them) until `finished`.
    init(taking bytes: inout [UInt8]) {
        self.bytes = []
        swap(&self.bytes, &bytes)
        start = self.bytes.count
        append("cohort1")
    }

    mutating func kind(_ kind: StaticString) {
        bytes.append(UInt8(ascii: "\t"))
        append(kind)
    }

    mutating func field(_ key: StaticString, _ value: String) {
        self.key(key)
        var value = value
        value.withUTF8 { utf8 in
            // UTF-8 never puts these ASCII bytes inside a longer character.
            guard utf8.contains(where: Self.isEscaped) else { return bytes.append(contentsOf: utf8) }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "%"): append("%25")
                case UInt8(ascii: "\t"): append("%09")
                case UInt8(ascii: "\n"): append("%0A")
                case UInt8(ascii: "\r"): append("%0D")
                default: bytes.append(byte)
                }
            }
        }
    }

    private static func isEscaped(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    mutating func field(_ key: StaticString, _ value: Int) {
        self.key(key)
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        decimal(value.magnitude)
    }

    mutating func field(_ key: StaticString, _ value: Int64) {
        field(key, Int(value))
    }

    /// 16 lowercase hex digits.
    mutating func hex(_ key: StaticString, _ value: UInt64) {
        self.key(key)
        appendHex16(value)
    }

    /// `run.environment.setup.script`, as `InstanceDefinition.text` spells it.
    mutating func definition(_ key: StaticString, _ definition: InstanceDefinition) {
        self.key(key)
        appendHex16(definition.run)
        bytes.append(UInt8(ascii: "."))
        appendHex16(definition.environment)
        bytes.append(UInt8(ascii: "."))
        appendHex16(definition.setup)
        bytes.append(UInt8(ascii: "."))
        appendHex16(definition.script)
    }

    /// Seconds with six decimals, the same text on every platform.
    mutating func time(_ key: StaticString, _ seconds: Double) {
        self.key(key)
        let micros = Int64((seconds * 1_000_000).rounded())
        if micros < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = micros.magnitude
        decimal(UInt(magnitude / 1_000_000))
        bytes.append(UInt8(ascii: "."))
        decimal(UInt(magnitude % 1_000_000), digits: 6)
    }

    mutating func attempt(_ attempt: JournalRecord.Attempt) {
        field("instance", attempt.instance)
        field("attempt", attempt.attempt)
        field("rank", attempt.rank)
        field("host", attempt.host)
        time("time", attempt.time)
    }

    /// The whole buffer, this line ended with its checksum.
    mutating func finished() -> [UInt8] {
        let crc = bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[start...])) }
        append("\t#")
        for shift in stride(from: 28, through: 0, by: -4) {
            bytes.append(Self.hexDigits[Int((crc >> UInt32(shift)) & 0xF)])
        }
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func key(_ key: StaticString) {
        bytes.append(UInt8(ascii: "\t"))
        append(key)
        bytes.append(UInt8(ascii: "="))
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `value` in decimal, zero-padded to `digits`. Digits are made on the
    /// stack and appended at once: the journal writes a dozen numbers a record.
    private mutating func decimal(_ value: UInt, digits: Int = 1) {
        precondition((1...20).contains(digits), "at most 20 digits fit the buffer")
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt.max's 20 digits
        let count = withUnsafeMutableBytes(of: &text) { out in
            var rest = value
            var index = out.count
            repeat {
                index -= 1
                out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0 || out.count - index < digits
            return out.count - index
        }
        withUnsafeBytes(of: &text) { bytes.append(contentsOf: $0[($0.count - count)...]) }
    }

    private mutating func appendHex16(_ value: UInt64) {
        var text: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &text) { out in
            for index in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * index)) & 0xF
                out[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
            }
        }
        withUnsafeBytes(of: &text) { bytes.append(contentsOf: $0) }
    }
}
