import CohortCore
import CohortMPI
import Testing

/// The binary message encoding, without MPI: round trips and hostile bytes.
@Suite struct MessageCodingTests {
    let order = TaskOrder(
        instance: InstanceID(123_456), name: "realign:sub-01:ses-pre", command: "sh modules/realign.sh 'a b'",
        directory: "/data/job", instanceFolder: "/data/job/out/realign/sub-01/ses-pre",
        attemptFolder: "/data/job/out/.attempts/realign/sub-01/ses-pre/3",
        asideFolder: "/data/job/out/.attempts/realign/sub-01/ses-pre/2/files",
        environment: [.init(name: "FSLOUTPUTTYPE", value: "NIFTI_GZ"), .init(name: "EMPTY", value: ""),
                      .init(name: "UNICODE", value: "ünï €")],
        cpus: 4, timeoutSeconds: 90)

    @Test func schedulerMessagesRoundTrip() throws {
        var followOn = order
        followOn.after = InstanceID(0)
        for message in [SchedulerMessage.run(order), .run(followOn), .stop, .terminate, .recall(InstanceID(77))] {
            #expect(try SchedulerMessage(decoding: message.encoded()) == message)
        }
    }

    @Test(arguments: [
        AttemptOutcome.succeeded, .exited(127), .exited(-1), .signaled(9), .timedOut,
        .couldNotStart("cannot create folder /x: Permission denied"),
    ])
    func workerMessagesRoundTrip(_ outcome: AttemptOutcome) throws {
        let report = TaskReport(instance: InstanceID(rawValue: Int32.max), outcome: outcome, wallSeconds: 12.5,
                                peakMemoryKiB: 1 << 40, logTail: "line 1\nline 2")
        let hello = WorkerHello(host: "node07", pid: 4242, machineCores: 128, machineMemory: 512 << 30)
        for message in [WorkerMessage.finished(report), .hello(hello), .draining("received SIGTERM")] {
            #expect(try WorkerMessage(decoding: message.encoded()) == message)
        }
    }

    @Test func encodingIsCompact() {
        // A small order costs little more than its strings: no field names, varint integers.
        let strings = order.name.utf8.count + order.command.utf8.count + order.directory.utf8.count
            + order.instanceFolder.utf8.count + order.attemptFolder.utf8.count + order.asideFolder.utf8.count + order.environment.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        #expect(SchedulerMessage.run(order).encoded().count < strings + 32)
        #expect(SchedulerMessage.stop.encoded().count == 2)
    }

    @Test func everyTruncationIsRejected() {
        let bytes = SchedulerMessage.run(order).encoded()
        for length in 0..<bytes.count {
            #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: Array(bytes.prefix(length))) }
        }
    }

    @Test func wrongVersionKindAndDirectionAreRejected() {
        var bytes = SchedulerMessage.stop.encoded()
        bytes[0] = 99
        #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: bytes) }
        #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: [wireProtocolVersion, 200]) }
        #expect(throws: WireFormatError.self) { try WorkerMessage(decoding: SchedulerMessage.stop.encoded()) }
        #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: SchedulerMessage.stop.encoded() + [0]) }
    }

    @Test func exitStatusZeroIsASuccessOnArrival() throws {
        // Kind 0 (exited) with status 0, as a hand-made message: one spelling of success.
        var writer = WireWriter()
        writer.write(wireProtocolVersion)
        writer.write(UInt8(2))
        writer.write(Int64(5))
        writer.write(UInt8(0))
        writer.write(Int64(0))
        writer.write(1.5)
        writer.write(Int64(10))
        writer.write("")
        #expect(try WorkerMessage(decoding: writer.bytes)
                == .finished(TaskReport(instance: InstanceID(5), outcome: .succeeded, wallSeconds: 1.5, peakMemoryKiB: 10, logTail: "")))
    }

    @Test func outcomesOnlyRankZeroDecidesAreNotOnTheWire() {
        // Kinds 5 and 6 were never a worker's to send: refused, not trusted.
        for kind: UInt8 in [5, 6] {
            let bytes: [UInt8] = [wireProtocolVersion, 2, 10, kind] + WireWriterBytes.rest
            #expect(throws: WireFormatError.self) { try WorkerMessage(decoding: bytes) }
        }
    }

    @Test func instancesOutsideTheCoreRangeAreRejected() {
        // The core numbers instances with Int32 from 0: anything else on the wire is damage.
        for instance: Int64 in [-1, Int64(Int32.max) + 1, .max] {
            var writer = WireWriter()
            writer.write(wireProtocolVersion)
            writer.write(UInt8(2))
            writer.write(instance)
            let valid = WorkerMessage.finished(TaskReport(instance: InstanceID(0), outcome: .succeeded, wallSeconds: 1,
                                                          peakMemoryKiB: 1, logTail: "")).encoded()
            let bytes = writer.bytes + valid.dropFirst(3)
            #expect(throws: WireFormatError.self) { try WorkerMessage(decoding: bytes) }
        }
    }

    @Test func hugeLengthsDoNotAllocate() {
        // A length prefix claiming 2^62 bytes must fail, not allocate.
        var writer = WireWriter()
        writer.write(wireProtocolVersion)
        writer.write(UInt8(3))
        writer.write(Int64(1))
        writer.write(UInt64(1) << 62)
        #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: writer.bytes) }
    }

    @Test func varintsCoverTheirRange() throws {
        for value in [Int64.min, -1, 0, 1, 127, 128, 1 << 35, Int64.max] {
            var writer = WireWriter()
            writer.write(value)
            var reader = WireReader(writer.bytes)
            #expect(try reader.readInt64() == value)
            #expect(reader.isAtEnd)
        }
    }
}

/// The fields after a report's outcome: wall seconds, peak memory, log tail.
enum WireWriterBytes {
    static var rest: [UInt8] {
        var writer = WireWriter()
        writer.write(1.0)
        writer.write(Int64(1))
        writer.write("")
        return writer.bytes
    }
}
