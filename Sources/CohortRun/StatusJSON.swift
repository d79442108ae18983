import CohortCore

/// `cohort status --json`: the report for scripts, schema `cohort-status/1`
/// (documented in the README). Times are seconds since the epoch.
public enum StatusJSON {
    public static let schema = "cohort-status/1"

    /// How many instances `notDone` lists without `--all`: a fresh study of
    /// 10^6 instances would otherwise print ~100 MB.
    public static let notDoneLimit = 10_000

    /// `all`: list every instance not done; else the first `notDoneLimit`,
    /// those needing attention first (failed, running, pending, skipped, not selected).
    public static func render(_ report: StatusReport, all: Bool = false) -> String {
        let graph = report.graph
        var object = JSONObject()
        object["schema"] = .string(schema)
        object["study"] = .string(graph.job.study)
        object["journal"] = .string(report.journalPath)
        object["runs"] = .number(Double(report.history.runs))
        var run = JSONObject()
        switch report.run {
        case .none:
            run["state"] = .string("none")
        case .live(let note):
            run["state"] = .string("live")
            run["holder"] = .string(note)
        case .died(let note, let lastRecord):
            run["state"] = .string("died")
            run["holder"] = .string(note)
            run["lastRecord"] = lastRecord.map { .number($0) } ?? .null
        }
        if let last = report.history.lastRun {
            run["started"] = .number(last.time)
            run["host"] = .string(last.host)
            run["workers"] = .number(Double(StatusText.workers(last)))
        }
        object["run"] = .object(run)
        object["anythingFailed"] = .bool(report.anythingFailed)
        object["stages"] = .array(report.status.stages.enumerated().map { index, stage in
            .object([
                "name": .string(stage.name), "domain": .string(graph.job.stages[index].domain.rawValue),
                "done": .number(Double(stage.done)), "failed": .number(Double(stage.failed)),
                "running": .number(Double(stage.running)), "skipped": .number(Double(stage.skipped)),
                "toDo": .number(Double(stage.toDo)), "total": .number(Double(stage.total)),
            ])
        })
        // Instances not done, with subject and session: the matrix, for scripts.
        let cells = report.status.cells
        var notDone = cells.indices.filter { cells[$0] != .done }
        let total = notDone.count
        if !all && total > notDoneLimit {
            notDone.sort { (-cells[$0].urgency, $0) < (-cells[$1].urgency, $1) }
            notDone = Array(notDone.prefix(notDoneLimit)).sorted()
        }
        object["notDoneCount"] = .number(Double(total))
        object["notDoneTruncated"] = .bool(notDone.count < total)
        object["notDone"] = .array(notDone.map { index in
            let cell = cells[index]
            let instance = InstanceID(index)
            let labels = graph.labels(of: instance)
            var fields: JSONObject = [
                "name": .string(graph.name(of: instance)), "stage": .string(graph.job.stages[graph.stage(of: instance)].name),
                "subject": .string(labels.subject), "session": .string(labels.session), "state": .string(cell.word),
            ]
            if let item = graph.item(of: instance) { fields["item"] = .string(item) }
            return .object(fields)
        })
        object["running"] = .array(report.status.running.map { running in
            .object(["name": .string(graph.name(of: running.instance)), "rank": .number(Double(running.rank)),
                     "host": .string(running.host), "since": .number(running.since)])
        })
        object["watching"] = .array(report.status.watching.map { .string(graph.name(of: $0)) })
        object["failures"] = .array(report.failures.map { detail in
            let failure = detail.failure
            var entry: JSONObject = [
                "name": .string(detail.name), "outcome": .string(failure.outcome.text),
                "cause": detail.cause.map { .string($0) } ?? .null, "attempt": .number(Double(failure.attempt)),
                "rank": .number(Double(failure.rank)), "host": .string(failure.host),
                "wallSeconds": .number(failure.wallSeconds), "peakMemoryKiB": .number(Double(failure.peakMemoryKiB)),
                "logs": .string(detail.logFolder), "lastLine": .string(detail.lastLine),
                "rerun": .string("cohort run \(CommandTemplate.shellQuoted(report.jobFile)) --only \(CommandTemplate.shellQuoted(detail.name))"),
                "rerunByHand": detail.rerunScript.map { .string("sh " + $0) } ?? .null,
            ]
            switch failure.outcome {
            case .exited(let code): entry["exitStatus"] = .number(Double(code))
            case .signaled(let signal): entry["signal"] = .number(Double(signal))
            default: break
            }
            return .object(entry)
        })
        object["failureGroups"] = .array(report.failureGroups.map { group in
            .object([
                "stage": .string(group.stage), "count": .number(Double(group.members.count)),
                "outcome": .string(group.members[0].failure.outcome.text),
                "cause": group.members[0].cause.map { .string($0) } ?? .null,
                "lastLine": .string(group.members[0].lastLine),
                "instances": .array(group.members.map { .string($0.name) }),
            ])
        })
        object["damagedRecords"] = .array(report.history.damaged.map { .object(["line": .number(Double($0.line)), "reason": .string($0.reason)]) })
        return JSONValue.object(object).text
    }
}

/// Keys in insertion order, so the output reads in the schema's order.
struct JSONObject: ExpressibleByDictionaryLiteral {
    var pairs: [(String, JSONValue)] = []

    init() {}

    init(dictionaryLiteral elements: (String, JSONValue)...) { pairs = elements }

    subscript(key: String) -> JSONValue? {
        get { pairs.first { $0.0 == key }?.1 }
        set {
            pairs.removeAll { $0.0 == key }
            if let newValue { pairs.append((key, newValue)) }
        }
    }
}

/// A JSON value and its text (RFC 8259: strings escaped, numbers finite).
indirect enum JSONValue {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object(JSONObject)

    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .string(let value): Self.quote(value, into: &out)
        case .number(let value):
            if !value.isFinite { out += "null" } else if value == value.rounded(), abs(value) < 1e15 { out += String(Int64(value)) } else { out += "\(value)" }
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, (key, value)) in object.pairs.enumerated() {
                if index > 0 { out += "," }
                Self.quote(key, into: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let digits = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
