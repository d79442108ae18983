import CohortCore
import CohortRun
import Testing

/// `cohort graph` of a study with item stages (DESIGN §8).
@Suite struct GraphTextTests {
    func graph() throws -> InstanceGraph {
        var graph = try InstanceGraph(job: try JobLoader.load(text: """
            study: s
            subjects: [g1]
            sessions: [s1]
            stages:
              - {name: import, domain: session, items: true, run: x}
              - {name: mc, foreach: import, run: x}
              - {name: pick, domain: session, after: [mc], run: x}
            """, file: "job.yml"))
        graph.list(["a.tif", #"say "hi"\n.tif"#], by: InstanceID(0))
        graph.list(["a.tif"], by: InstanceID(0))  // the second item left the study
        return graph
    }

    @Test func itemStagesCountTheirLiveItems() throws {
        let text = GraphText.stages(try graph())
        #expect(text.contains(##""mc" [label="mc\nitem of import × 1", fillcolor="#cfe2f3"];"##), "\(text)")
        #expect(text.contains(#""pick" [label="pick\nsession × 1""#))
    }

    @Test func itemInstancesAreNodesWithEscapedNames() throws {
        var graph = try graph()
        graph.list(["a.tif", #"say "hi"\n.tif"#], by: InstanceID(0))
        let text = GraphText.instances(graph)
        #expect(text.contains(##""mc:g1:s1:a.tif" [label="mc\ns1\na.tif", fillcolor="#cfe2f3"];"##), "\(text)")
        #expect(text.contains(#""mc:g1:s1:say \"hi\"\\n.tif" -> "pick:g1:s1";"#), "quotes and backslashes escaped: \(text)")
        let dropped = GraphText.instances(try self.graph())
        #expect(!dropped.contains("say"), "an item no longer listed is not drawn")
    }
}

/// Sharing a host's GPUs among its worker ranks.
@Suite struct WorkerDevicesTests {
    @Test func aHostsGPUsAreSharedOutInContiguousRuns() {
        func hello(_ host: String, gpus: [String]) -> WorkerHello {
            var hello = WorkerHello(host: host, pid: 1, machineCores: 4, machineMemory: 1 << 30)
            hello.gpus = gpus
            return hello
        }
        let hellos = [(1, hello("a", gpus: ["0", "1", "2"])), (2, hello("a", gpus: ["0", "1", "2"])), (3, hello("b", gpus: ["0"]))]
        #expect(WorkerPolicy().devices(for: hellos) == [1: ["0"], 2: ["1", "2"], 3: ["0"]])
        var policy = WorkerPolicy()
        policy.gpus = ["0", "1", "2", "3"]
        #expect(policy.devices(for: hellos) == [1: ["0", "1"], 2: ["2", "3"], 3: ["0", "1", "2", "3"]], "--gpus names each host's")
    }
}
