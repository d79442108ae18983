import CohortCore
import CohortMPI
import Testing

/// The binary message encoding, without MPI: round trips and hostile bytes.
@Suite struct MessageCodingTests {
    let recipe = StageRecipe(
        stage: 0, stageName: "realign", study: "ds001", command: "sh modules/realign.sh {subject} \"{workdir}/x\"",
        setup: ["module load fsl", "export A=1"], directory: "/data/job", workdir: "/data/job/out",
        environment: [.init(name: "FSLOUTPUTTYPE", value: "NIFTI_GZ"), .init(name: "EMPTY", value: ""),
                      .init(name: "UNICODE", value: "ünï €")],
        cpus: 4, timeoutSeconds: 90, perSession: true)
    let assignment = TaskAssignment(instance: InstanceID(123_456), stage: 2, subject: "sub-01", session: "ses-pre", attempt: 3)

    @Test func schedulerMessagesRoundTrip() throws {
        var followOn = assignment
        followOn.after = InstanceID(0)
        let studyLevel = TaskAssignment(instance: InstanceID(1), stage: 0, subject: "", session: "", attempt: 1)
        let second = StageRecipe(stage: 1, stageName: "group", study: "ds001", command: "true", setup: [], directory: "/d",
                                 workdir: "/d/out", environment: [], cpus: 1, timeoutSeconds: 0)
        let generator = StageRecipe(stage: 2, stageName: "import", study: "ds001", command: "ls", setup: [], directory: "/d",
                                    workdir: "/d/out", environment: [], cpus: 1, timeoutSeconds: 0, listsItems: true)
        let perItem = StageRecipe(stage: 3, stageName: "ctf", study: "ds001", command: "ctf {item}", setup: [], directory: "/d",
                                  workdir: "/d/out", environment: [], cpus: 1, timeoutSeconds: 0, perItem: true)
        var item = assignment
        item.item = "raw/movie 1.tif"
        var gpu = assignment
        gpu.gpus = ["0", "GPU-1a"]
        var noGPU = assignment
        noGPU.gpus = []
        var gang = assignment
        gang.hosts = ["n1", "n2"]
        gang.hostGPUs = ["0,1", "2"]
        for message in [SchedulerMessage.recipes([recipe, second, generator, perItem], workerCpus: 6), .recipes([], workerCpus: 1), .run([assignment]),
                        .run([assignment, followOn, studyLevel, item, gpu, noGPU, gang]), .run([]), .stop, .terminate,
                        .recall(InstanceID(77))] {
            #expect(try SchedulerMessage(decoding: message.encoded()) == message)
        }
    }

    @Test(arguments: [
        AttemptOutcome.succeeded, .exited(127), .exited(-1), .signaled(9), .timedOut,
        .couldNotStart("cannot create folder /x: Permission denied"), .badItems("line 3: \"../x\" leaves the job folder ('..')"),
    ])
    func workerMessagesRoundTrip(_ outcome: AttemptOutcome) throws {
        let report = TaskReport(instance: InstanceID(rawValue: Int32.max), outcome: outcome, wallSeconds: 12.5,
                                peakMemoryKiB: 1 << 40, logTail: "line 1\nline 2")
        var hello = WorkerHello(host: "node07", pid: 4242, machineCores: 128, machineMemory: 512 << 30)
        hello.gpus = ["0", "1", "MIG-2"]
        let other = TaskReport(instance: InstanceID(0), outcome: .succeeded, wallSeconds: 0, peakMemoryKiB: 0, logTail: "")
        var listed = other
        listed.items = ["raw/m1.tif", "m 2", ""].filter { !$0.isEmpty }
        var listedNothing = other
        listedNothing.items = []
        for message in [WorkerMessage.finished([report]), .finished([other, report, other, listed, listedNothing]), .hello(hello),
                        .draining("received SIGTERM")] {
            #expect(try WorkerMessage(decoding: message.encoded()) == message)
        }
    }

    @Test func encodingIsCompact() {
        // An order on the wire is its labels and a few varints: the recipe travels once.
        let labels = assignment.subject.utf8.count + assignment.session.utf8.count
        #expect(SchedulerMessage.run([assignment]).encoded().count <= labels + 16)
        #expect(SchedulerMessage.run([assignment, assignment]).encoded().count <= 2 * (labels + 16) - 3)
        #expect(SchedulerMessage.stop.encoded().count == 2)
    }

    @Test func everyTruncationIsRejected() {
        for bytes in [SchedulerMessage.run([assignment, assignment]).encoded(), SchedulerMessage.recipes([recipe], workerCpus: 1).encoded()] {
            for length in 0..<bytes.count {
                #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: Array(bytes.prefix(length))) }
            }
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
        writer.writeCount(1)
        writer.write(Int64(5))
        writer.write(UInt8(0))
        writer.write(Int64(0))
        writer.write(1.5)
        writer.write(Int64(10))
        writer.write("")
        writer.write(Int64(-1))  // no items: not a generator's
        #expect(try WorkerMessage(decoding: writer.bytes)
                == .finished([TaskReport(instance: InstanceID(5), outcome: .succeeded, wallSeconds: 1.5, peakMemoryKiB: 10, logTail: "")]))
    }

    @Test func outcomesOnlyRankZeroDecidesAreNotOnTheWire() {
        // Kinds 5 and 6 were never a worker's to send: refused, not trusted.
        for kind: UInt8 in [5, 6] {
            let bytes: [UInt8] = [wireProtocolVersion, 2, 1, 10, kind] + WireWriterBytes.rest
            #expect(throws: WireFormatError.self) { try WorkerMessage(decoding: bytes) }
        }
    }

    @Test func instancesOutsideTheCoreRangeAreRejected() {
        // The core numbers instances with Int32 from 0: anything else on the wire is damage.
        for instance: Int64 in [-1, Int64(Int32.max) + 1, .max] {
            var writer = WireWriter()
            writer.write(wireProtocolVersion)
            writer.write(UInt8(2))
            writer.writeCount(1)
            writer.write(instance)
            let valid = WorkerMessage.finished([TaskReport(instance: InstanceID(0), outcome: .succeeded, wallSeconds: 1,
                                                           peakMemoryKiB: 1, logTail: "")]).encoded()
            let bytes = writer.bytes + valid.dropFirst(4)
            #expect(throws: WireFormatError.self) { try WorkerMessage(decoding: bytes) }
        }
    }

    @Test func attemptsBelowOneAndHugeCountsAreRejected() {
        // Attempt numbers start at 1 (folders are named by them; one less names the previous).
        for attempt in [0, -5, Int.min] {
            var bad = assignment
            bad.attempt = attempt
            #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: SchedulerMessage.run([bad]).encoded()) }
        }
        var writer = WireWriter()
        writer.write(wireProtocolVersion)
        writer.write(UInt8(3))
        writer.writeCount(Int(Int32.max))
        #expect(throws: WireFormatError.self) { try SchedulerMessage(decoding: writer.bytes) }
    }

    @Test func hugeLengthsDoNotAllocate() {
        // A length prefix claiming 2^62 bytes must fail, not allocate.
        var writer = WireWriter()
        writer.write(wireProtocolVersion)
        writer.write(UInt8(8))
        writer.writeCount(1)
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
