/// Compact binary encoding of Cohort's messages: LEB128 varints and
/// length-prefixed UTF-8. Foundation's JSON capped scheduling at a tenth of
/// what MPI itself sustains (NOTES-MPI), so messages are encoded by hand.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    /// Unsigned LEB128: 7 bits per byte, high bit set while more follow.
    public mutating func write(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Signed values zig-zag encoded so small negatives stay small.
    public mutating func write(_ value: Int64) {
        write(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func write(_ value: Double) { write(value.bitPattern) }

    public mutating func write(_ value: String) {
        write(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// How many elements follow (a list's length).
    public mutating func writeCount(_ count: Int) { write(UInt64(count)) }

    public mutating func write(_ pairs: [(String, String)]) {
        write(UInt64(pairs.count))
        for (name, value) in pairs {
            write(name)
            write(value)
        }
    }
}

/// Why bytes could not be read back as a message.
public struct WireFormatError: Error, Equatable, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { "malformed Cohort message: \(reason)" }

    public init(reason: String) { self.reason = reason }
}

/// Reads what `WireWriter` wrote; every read is bounds-checked.
public struct WireReader {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { position == bytes.count }

    public mutating func readByte() throws(WireFormatError) -> UInt8 {
        guard position < bytes.count else { throw WireFormatError(reason: "truncated at byte \(position)") }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readUInt64() throws(WireFormatError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw WireFormatError(reason: "varint too long at byte \(position)") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func readInt64() throws(WireFormatError) -> Int64 {
        let raw = try readUInt64()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    public mutating func readDouble() throws(WireFormatError) -> Double {
        Double(bitPattern: try readUInt64())
    }

    public mutating func readString() throws(WireFormatError) -> String {
        let count = try readCount()
        defer { position += count }
        return String(decoding: bytes[position..<position + count], as: UTF8.self)
    }

    public mutating func readPairs() throws(WireFormatError) -> [(String, String)] {
        let count = try readCount()
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(count)
        for _ in 0..<count {
            let name = try readString()
            pairs.append((name, try readString()))
        }
        return pairs
    }

    /// A length that must fit in what is left of the message: a string's
    /// bytes, or a list's elements (each takes a byte at least, so a
    /// hostile count ends in a truncation error, not a huge loop; callers
    /// do not reserve room by it).
    public mutating func readCount() throws(WireFormatError) -> Int {
        let raw = try readUInt64()
        guard raw <= UInt64(bytes.count - position) else {
            throw WireFormatError(reason: "length \(raw) exceeds the \(bytes.count - position) bytes left")
        }
        return Int(raw)
    }
}
