/// Kind bytes; each message is `[version][kind][fields...]`.
private enum Kind: UInt8 {
    case hello = 1
    case finished = 2
    case run = 3
    case stop = 4
    case terminate = 5
    case draining = 6
}

private enum OutcomeKind: UInt8 {
    case exited = 0
    case signaled = 1
    case couldNotStart = 2
    case timedOut = 3
}

private func header(_ kind: Kind) -> WireWriter {
    var writer = WireWriter()
    writer.write(wireProtocolVersion)
    writer.write(kind.rawValue)
    return writer
}

private func readHeader(_ reader: inout WireReader) throws(WireFormatError) -> Kind {
    let version = try reader.readByte()
    guard version == wireProtocolVersion else {
        throw WireFormatError(reason: "protocol version \(version), expected \(wireProtocolVersion) (ranks run different cohort binaries?)")
    }
    let raw = try reader.readByte()
    guard let kind = Kind(rawValue: raw) else { throw WireFormatError(reason: "unknown message kind \(raw)") }
    return kind
}

private func expectEnd(_ reader: WireReader) throws(WireFormatError) {
    guard reader.isAtEnd else { throw WireFormatError(reason: "trailing bytes") }
}

extension WorkerMessage {
    public func encoded() -> [UInt8] {
        switch self {
        case .hello(let hello):
            var writer = header(.hello)
            writer.write(hello.host)
            writer.write(hello.pid)
            writer.write(hello.machineCores)
            writer.write(hello.machineMemory)
            return writer.bytes
        case .finished(let report):
            var writer = header(.finished)
            writer.write(report.instance)
            switch report.outcome {
            case .exited(let code):
                writer.write(OutcomeKind.exited.rawValue)
                writer.write(Int64(code))
            case .signaled(let signal):
                writer.write(OutcomeKind.signaled.rawValue)
                writer.write(Int64(signal))
            case .couldNotStart(let reason):
                writer.write(OutcomeKind.couldNotStart.rawValue)
                writer.write(reason)
            case .timedOut:
                writer.write(OutcomeKind.timedOut.rawValue)
            }
            writer.write(report.wallSeconds)
            writer.write(report.peakMemoryKiB)
            writer.write(report.logTail)
            return writer.bytes
        case .draining(let reason):
            var writer = header(.draining)
            writer.write(reason)
            return writer.bytes
        }
    }

    public init(decoding bytes: [UInt8]) throws(WireFormatError) {
        var reader = WireReader(bytes)
        switch try readHeader(&reader) {
        case .hello:
            self = .hello(WorkerHello(
                host: try reader.readString(),
                pid: try reader.readInt64(),
                machineCores: try reader.readInt64(),
                machineMemory: try reader.readInt64()))
        case .finished:
            let instance = try reader.readInt64()
            let outcome: TaskOutcome
            switch OutcomeKind(rawValue: try reader.readByte()) {
            case .exited: outcome = .exited(try Self.readInt32(&reader))
            case .signaled: outcome = .signaled(try Self.readInt32(&reader))
            case .couldNotStart: outcome = .couldNotStart(try reader.readString())
            case .timedOut: outcome = .timedOut
            case nil: throw WireFormatError(reason: "unknown outcome kind")
            }
            self = .finished(TaskReport(
                instance: instance, outcome: outcome, wallSeconds: try reader.readDouble(),
                peakMemoryKiB: try reader.readInt64(), logTail: try reader.readString()))
        case .draining:
            self = .draining(try reader.readString())
        case .run, .stop, .terminate:
            throw WireFormatError(reason: "a scheduler message where a worker message was expected")
        }
        try expectEnd(reader)
    }

    private static func readInt32(_ reader: inout WireReader) throws(WireFormatError) -> Int32 {
        let value = try reader.readInt64()
        guard let narrow = Int32(exactly: value) else { throw WireFormatError(reason: "status \(value) out of range") }
        return narrow
    }
}

extension SchedulerMessage {
    public func encoded() -> [UInt8] {
        switch self {
        case .run(let order):
            var writer = header(.run)
            writer.write(order.instance)
            writer.write(order.name)
            writer.write(order.command)
            writer.write(order.directory)
            writer.write(order.instanceFolder)
            writer.write(order.attemptFolder)
            writer.write(order.asideFolder)
            writer.write(order.environment.map { ($0.name, $0.value) })
            writer.write(order.cpus)
            writer.write(order.timeoutSeconds)
            return writer.bytes
        case .stop:
            return header(.stop).bytes
        case .terminate:
            return header(.terminate).bytes
        }
    }

    public init(decoding bytes: [UInt8]) throws(WireFormatError) {
        var reader = WireReader(bytes)
        switch try readHeader(&reader) {
        case .run:
            self = .run(TaskOrder(
                instance: try reader.readInt64(),
                name: try reader.readString(),
                command: try reader.readString(),
                directory: try reader.readString(),
                instanceFolder: try reader.readString(),
                attemptFolder: try reader.readString(),
                asideFolder: try reader.readString(),
                environment: try reader.readPairs().map { TaskOrder.Variable(name: $0.0, value: $0.1) },
                cpus: try reader.readInt64(),
                timeoutSeconds: try reader.readDouble()))
        case .stop:
            self = .stop
        case .terminate:
            self = .terminate
        case .hello, .finished, .draining:
            throw WireFormatError(reason: "a worker message where a scheduler message was expected")
        }
        try expectEnd(reader)
    }
}
