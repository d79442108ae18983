public import CohortCore

/// Kind bytes; each message is `[version][kind][fields...]`.
private enum Kind: UInt8 {
    case hello = 1
    case finished = 2
    case run = 3
    case stop = 4
    case terminate = 5
    case draining = 6
    case recall = 7
    case recipes = 8
}

private enum OutcomeKind: UInt8 {
    case exited = 0
    case signaled = 1
    case couldNotStart = 2
    case timedOut = 3
    case succeeded = 4
    // 5 and 6 stay unused: they were never a worker's to send (see the tests).
    case badItems = 7
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

/// A varint that must fit the narrower integer type it stands for.
private func read<T: FixedWidthInteger>(_ type: T.Type, _ what: String, _ reader: inout WireReader) throws(WireFormatError) -> T {
    let value = try reader.readInt64()
    guard let narrow = T(exactly: value) else { throw WireFormatError(reason: "\(what) \(value) out of range") }
    return narrow
}

private func readInstance(_ reader: inout WireReader) throws(WireFormatError) -> InstanceID {
    let index = try read(Int32.self, "instance", &reader)
    guard index >= 0 else { throw WireFormatError(reason: "instance \(index) out of range") }
    return InstanceID(rawValue: index)
}

/// What a worker saw its module do. `interrupted` and `lost` are rank 0's
/// to decide (`Scheduler.settled`): a worker never reports them.
private func write(_ outcome: AttemptOutcome, to writer: inout WireWriter) {
    switch outcome {
    case .succeeded: writer.write(OutcomeKind.succeeded.rawValue)
    case .exited(let code):
        writer.write(OutcomeKind.exited.rawValue)
        writer.write(Int64(code))
    case .signaled(let signal):
        writer.write(OutcomeKind.signaled.rawValue)
        writer.write(Int64(signal))
    case .couldNotStart(let reason):
        writer.write(OutcomeKind.couldNotStart.rawValue)
        writer.write(reason)
    case .badItems(let reason):
        writer.write(OutcomeKind.badItems.rawValue)
        writer.write(reason)
    case .timedOut: writer.write(OutcomeKind.timedOut.rawValue)
    case .interrupted, .lost: preconditionFailure("a worker reports what its module did, not \(outcome)")
    }
}

private func readOutcome(_ reader: inout WireReader) throws(WireFormatError) -> AttemptOutcome {
    switch OutcomeKind(rawValue: try reader.readByte()) {
    case .succeeded: return .succeeded
    case .exited: return AttemptOutcome(exitStatus: try read(Int32.self, "status", &reader))
    case .signaled: return .signaled(try read(Int32.self, "signal", &reader))
    case .couldNotStart: return .couldNotStart(try reader.readString())
    case .timedOut: return .timedOut
    case .badItems: return .badItems(try reader.readString())
    case nil: throw WireFormatError(reason: "unknown outcome kind")
    }
}

extension WorkerMessage {
    public func encoded() -> [UInt8] {
        switch self {
        case .hello(let hello):
            var writer = header(.hello)
            writer.write(hello.host)
            writer.write(Int64(hello.pid))
            writer.write(Int64(hello.machineCores))
            writer.write(hello.machineMemory)
            writer.writeCount(hello.gpus.count)
            for device in hello.gpus { writer.write(device) }
            return writer.bytes
        case .finished(let reports):
            var writer = header(.finished)
            writer.writeCount(reports.count)
            for report in reports {
                writer.write(Int64(report.instance.rawValue))
                write(report.outcome, to: &writer)
                writer.write(report.wallSeconds)
                writer.write(Int64(report.peakMemoryKiB))
                writer.write(report.logTail)
                // -1: not a generator's success; else the items' count, then each.
                writer.write(Int64(report.items?.count ?? -1))
                for item in report.items ?? [] { writer.write(item) }
            }
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
            var hello = WorkerHello(
                host: try reader.readString(),
                pid: try read(Int.self, "pid", &reader),
                machineCores: try read(Int.self, "cores", &reader),
                machineMemory: try reader.readInt64())
            for _ in 0..<(try reader.readCount()) { hello.gpus.append(try reader.readString()) }
            self = .hello(hello)
        case .finished:
            var reports: [TaskReport] = []
            for _ in 0..<(try reader.readCount()) {
                var report = TaskReport(
                    instance: try readInstance(&reader), outcome: try readOutcome(&reader), wallSeconds: try reader.readDouble(),
                    peakMemoryKiB: try read(Int.self, "peak memory", &reader), logTail: try reader.readString())
                let count = try reader.readInt64()
                guard count >= -1 else { throw WireFormatError(reason: "item count \(count) out of range") }
                if count >= 0 {
                    var items: [String] = []
                    // Each item is at least its length byte: a count beyond what is left is refused on reading.
                    for _ in 0..<count { items.append(try reader.readString()) }
                    report.items = items
                }
                reports.append(report)
            }
            self = .finished(reports)
        case .draining:
            self = .draining(try reader.readString())
        case .run, .stop, .terminate, .recall, .recipes:
            throw WireFormatError(reason: "a scheduler message where a worker message was expected")
        }
        try expectEnd(reader)
    }
}

extension SchedulerMessage {
    public func encoded() -> [UInt8] {
        switch self {
        case .recipes(let recipes, let workerCpus):
            var writer = header(.recipes)
            writer.write(Int64(workerCpus))
            writer.writeCount(recipes.count)
            // A recipe's stage is its place in the list.
            for recipe in recipes {
                writer.write(recipe.stageName)
                writer.write(recipe.study)
                writer.write(recipe.command)
                writer.writeCount(recipe.setup.count)
                for snippet in recipe.setup { writer.write(snippet) }
                writer.write(recipe.directory)
                writer.write(recipe.workdir)
                writer.write(recipe.environment.map { ($0.name, $0.value) })
                writer.write(Int64(recipe.cpus))
                writer.write(recipe.timeoutSeconds)
                writer.write(UInt8(recipe.perSession ? 1 : 0))
                writer.write(UInt8(recipe.perItem ? 1 : 0))
                writer.write(UInt8(recipe.listsItems ? 1 : 0))
            }
            return writer.bytes
        case .run(let assignments):
            var writer = header(.run)
            writer.writeCount(assignments.count)
            for assignment in assignments {
                writer.write(Int64(assignment.instance.rawValue))
                writer.write(Int64(assignment.stage))
                writer.write(assignment.subject)
                writer.write(assignment.session)
                writer.write(assignment.item)
                writer.write(Int64(assignment.attempt))
                writer.write(Int64(assignment.after?.rawValue ?? -1))
                // Absent: leave the module's CUDA_VISIBLE_DEVICES alone (a worker without GPUs).
                writeOptional(assignment.gpus, to: &writer)
                // Absent: one worker; else the hosts of a multi-node instance (and each one's GPUs).
                writeOptional(assignment.hosts, to: &writer)
                writeOptional(assignment.hostGPUs, to: &writer)
            }
            return writer.bytes
        case .stop:
            return header(.stop).bytes
        case .terminate:
            return header(.terminate).bytes
        case .recall(let instance):
            var writer = header(.recall)
            writer.write(Int64(instance.rawValue))
            return writer.bytes
        }
    }

    public init(decoding bytes: [UInt8]) throws(WireFormatError) {
        var reader = WireReader(bytes)
        switch try readHeader(&reader) {
        case .recipes:
            let workerCpus = try read(Int.self, "cpus", &reader)
            var recipes: [StageRecipe] = []
            for stage in 0..<(try reader.readCount()) {
                let stageName = try reader.readString()
                let study = try reader.readString()
                let command = try reader.readString()
                var setup: [String] = []
                for _ in 0..<(try reader.readCount()) { setup.append(try reader.readString()) }
                recipes.append(StageRecipe(
                    stage: stage, stageName: stageName, study: study, command: command, setup: setup,
                    directory: try reader.readString(), workdir: try reader.readString(),
                    environment: try reader.readPairs().map { EnvironmentVariable(name: $0.0, value: $0.1) },
                    cpus: try read(Int.self, "cpus", &reader), timeoutSeconds: try reader.readDouble(),
                    perSession: try reader.readByte() != 0, perItem: try reader.readByte() != 0,
                    listsItems: try reader.readByte() != 0))
            }
            self = .recipes(recipes, workerCpus: workerCpus)
        case .run:
            var assignments: [TaskAssignment] = []
            for _ in 0..<(try reader.readCount()) {
                var assignment = TaskAssignment(
                    instance: try readInstance(&reader), stage: try read(Int.self, "stage", &reader),
                    subject: try reader.readString(), session: try reader.readString(),
                    attempt: 0)
                assignment.item = try reader.readString()
                assignment.attempt = try read(Int.self, "attempt", &reader)
                guard assignment.attempt >= 1 else { throw WireFormatError(reason: "attempt \(assignment.attempt) out of range") }
                // -1: not a follow-on.
                let after = try read(Int32.self, "after", &reader)
                guard after >= -1 else { throw WireFormatError(reason: "instance ahead \(after) out of range") }
                if after >= 0 { assignment.after = InstanceID(rawValue: after) }
                assignment.gpus = try readOptional("GPU", upTo: 64, &reader)
                assignment.hosts = try readOptional("host", upTo: 1024, &reader)
                assignment.hostGPUs = try readOptional("host GPU", upTo: 1024, &reader)
                assignments.append(assignment)
            }
            self = .run(assignments)
        case .stop:
            self = .stop
        case .terminate:
            self = .terminate
        case .recall:
            self = .recall(try readInstance(&reader))
        case .hello, .finished, .draining:
            throw WireFormatError(reason: "a worker message where a scheduler message was expected")
        }
        try expectEnd(reader)
    }
}

/// An optional list of strings: its count (-1 for none), then each.
private func writeOptional(_ list: [String]?, to writer: inout WireWriter) {
    writer.write(Int64(list?.count ?? -1))
    for text in list ?? [] { writer.write(text) }
}

private func readOptional(_ what: String, upTo limit: Int64, _ reader: inout WireReader) throws(WireFormatError) -> [String]? {
    let count = try reader.readInt64()
    guard (-1...limit).contains(count) else { throw WireFormatError(reason: "\(what) count \(count) out of range") }
    guard count >= 0 else { return nil }
    var list: [String] = []
    for _ in 0..<count { list.append(try reader.readString()) }
    return list
}
