/// Hashes of text: the job file's (recorded with each run) and of a
/// module script's bytes (part of an instance's definition).
public enum Fingerprint {
    /// The hash of a job file's text, recorded with each run.
    public static func of(text: String) -> String {
        var hasher = FNV1a()
        hasher.add(text)
        return hasher.hex
    }

    /// The hash of a file's bytes (a module script's content).
    public static func of(bytes: some Sequence<UInt8>) -> UInt64 {
        var hasher = FNV1a()
        hasher.addBytes(bytes)
        return hasher.value
    }
}

/// 64-bit FNV-1a; fields are length-prefixed so that ("ab","c") != ("a","bc").
struct FNV1a: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        var length = UInt64(text.utf8.count)
        for _ in 0..<8 {
            addByte(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        var text = text
        text.withUTF8 { bytes in
            for byte in bytes { addByte(byte) }
        }
    }

    mutating func add(_ number: UInt64) {
        var rest = number
        for _ in 0..<8 {
            addByte(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }

    mutating func addBytes(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { addByte(byte) }
    }

    private mutating func addByte(_ byte: UInt8) {
        state ^= UInt64(byte)
        state = state &* 0x0000_0100_0000_01b3
    }

    var value: UInt64 { state }

    var hex: String { hex16(state) }
}
