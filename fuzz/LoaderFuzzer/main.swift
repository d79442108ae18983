// Fuzz target for the job-file loader (NOTES-YAML). With -DFUZZING it is a
// libFuzzer binary; without, it runs each file argument through the loader
// once, so plain builds link and a crash artifact can be replayed.
import CohortCore

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<CChar>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        let job = try JobLoader.load(text: text, file: "fuzz.yml")
        // Expand what loaded, as a run would, when it is small enough to do
        // quickly, and run it on two workers (one labelled) with failures:
        // the scheduler must end, never sit idle with work it could start.
        if let graph = try? InstanceGraph(job: job), graph.instanceCount < 100_000 {
            var scheduler = Scheduler(graph: graph)
            var pending = scheduler.workerJoined(WorkerID(1), capacity: Capacity(cpus: 4, memory: 1 << 40))
            pending += scheduler.workerJoined(WorkerID(2), profile: WorkerProfile(
                capacity: Capacity(cpus: 2, memory: 1 << 34), labels: ["gpu", "rank0"]))
            pending += scheduler.allWorkersJoined()
            var events = 0
            while let action = pending.popLast() {
                if case .start(let instance, _) = action {
                    _ = graph.name(of: instance)
                    events += 1
                    pending += scheduler.instanceFinished(instance, succeeded: instance.rawValue % 3 != 1)
                }
            }
            precondition(scheduler.isFinished, "the scheduler stopped with nothing running and the run not finished")
            precondition(events <= graph.instanceCount * (1 + job.stages.map(\.retries).max()!), "more starts than attempts")
        }
    } catch {
        _ = error.description
    }
    return 0
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<CChar>, Int) -> CInt
) -> CInt

var argc = CommandLine.argc
var argv = Optional(CommandLine.unsafeArgv)
exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzz($0, $1) })
#else
for path in CommandLine.arguments.dropFirst() {
    guard let file = fopen(path, "rb") else {
        print("cannot open \(path)")
        exit(1)
    }
    var bytes: [CChar] = []
    var buffer = [CChar](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    fclose(file)
    _ = bytes.withUnsafeBufferPointer { fuzz($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
    print("ok \(path)")
}
#endif
