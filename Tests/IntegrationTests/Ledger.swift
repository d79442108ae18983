import CohortCore
import CohortTesting

/// The demo modules' own record of what ran where and when
/// (`DEMO_LEDGER`: `begin|end STAGE SUBJECT SESSION NANOSECONDS RANK HOST`).
struct Ledger {
    struct Event {
        var begin: Bool
        var instance: String
        var time: Int64
        var rank: Int
        var host: String
    }

    var events: [Event] = []

    init(path: String) {
        for line in Files.read(path).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 7, let time = Int64(fields[4]), let rank = Int(fields[5]) else { continue }
            var name = fields[1]
            if fields[2] != "-" { name += ":" + fields[2] }
            if fields[3] != "-" { name += ":" + fields[3] }
            events.append(Event(begin: fields[0] == "begin", instance: name, time: time, rank: rank, host: fields[6]))
        }
    }

    func begins(_ instance: String) -> [Event] { events.filter { $0.begin && $0.instance == instance } }
    func ends(_ instance: String) -> [Event] { events.filter { !$0.begin && $0.instance == instance } }
    var ranks: Set<Int> { Set(events.map(\.rank)) }
    var hosts: Set<String> { Set(events.map(\.host)) }
    var instances: Set<String> { Set(events.map(\.instance)) }

    /// Problems with "every instance of `graph` ran exactly once, after all its dependencies".
    func violations(of graph: InstanceGraph) -> [String] {
        var problems: [String] = []
        for index in 0..<graph.instanceCount {
            let name = graph.name(of: InstanceID(index))
            let begins = begins(name), ends = ends(name)
            guard begins.count == 1, ends.count == 1 else {
                problems.append("\(name) began \(begins.count) and ended \(ends.count) times")
                continue
            }
            for dependency in graph.dependencies(of: InstanceID(index)).flatMap({ $0 }) {
                let other = graph.name(of: InstanceID(dependency))
                if let end = self.ends(other).first, end.time > begins[0].time {
                    problems.append("\(name) began before \(other) ended")
                }
            }
        }
        let known = Set((0..<graph.instanceCount).map { graph.name(of: InstanceID($0)) })
        problems += instances.subtracting(known).map { "unexpected instance \($0)" }
        return problems
    }
}
