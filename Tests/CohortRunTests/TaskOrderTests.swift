import CohortCore
import CohortMPI
import CohortRun
import CohortTesting
import Testing

/// Orders as a worker makes them from rank 0's assignment and the stage's
/// recipe: what a module is given, at every domain, also across the wire.
@Suite struct TaskOrderTests {
    let job = Job(
        study: "ds 1", workdir: "out/../results", subjects: [Subject(name: "sub-01", sessions: ["ses-a", "ses-b"])],
        environment: [.init(name: "OMP_NUM_THREADS", value: "7"), .init(name: "FSLOUTPUTTYPE", value: "NIFTI_GZ")],
        setup: "module load fsl",
        stages: [
            Stage(name: "convert", domain: .session, command: "convert {subject} {session} \"{workdir}/x\"", dependencies: [],
                  cpus: 3, setup: "export A=1"),
            Stage(name: "first", domain: .subject, command: "first {study} {session}", dependencies: [0], timeout: 60),
            Stage(name: "group", domain: .study, command: "group '{study}'", dependencies: [1], setup: ""),
        ])

    @Test func ordersSayWhatEachModuleIsGiven() throws {
        let graph = try InstanceGraph(job: job)
        let factory = TaskFactory(graph: graph, jobFolder: "/lab/job", exported: [.init(name: "FSLOUTPUTTYPE", value: "NIFTI")])
        let convert = factory.order(for: graph.instance("convert:sub-01:ses-b"), attempt: 2)
        #expect(convert.name == "convert:sub-01:ses-b")
        #expect(convert.command == "module load fsl\nexport A=1\nconvert sub-01 ses-b \"/lab/job/results/convert/sub-01/ses-b/x\"")
        #expect(convert.directory == "/lab/job")
        #expect(convert.instanceFolder == "/lab/job/results/convert/sub-01/ses-b")
        #expect(convert.attemptFolder == "/lab/job/results/.attempts/convert/sub-01/ses-b/2")
        #expect(convert.asideFolder == "/lab/job/results/.attempts/convert/sub-01/ses-b/1/files")
        #expect(convert.cpus == 3 && convert.timeoutSeconds == 0)
        let environment = convert.environment
        // The job's env and --export come after the thread defaults, so they win.
        let threads = try #require(environment.lastIndex { $0.name == "OMP_NUM_THREADS" })
        #expect(environment[threads].value == "7")
        #expect(environment.last { $0.name == "FSLOUTPUTTYPE" }?.value == "NIFTI")
        #expect(environment.last { $0.name == "MKL_NUM_THREADS" }?.value == "3")
        #expect(environment.suffix(8).allSatisfy { $0.name.hasPrefix("COHORT_") }, "the instance's own variables come last")
        let cohort = Dictionary(environment.filter { $0.name.hasPrefix("COHORT_") }.map { ($0.name, $0.value) }) { $1 }
        #expect(cohort == ["COHORT_STUDY": "ds 1", "COHORT_SUBJECT": "sub-01", "COHORT_SESSION": "ses-b",
                           "COHORT_STAGE": "convert", "COHORT_WORKDIR": "/lab/job/results/convert/sub-01/ses-b",
                           "COHORT_THREADS": "3", "COHORT_INSTANCE": "convert:sub-01:ses-b", "COHORT_ATTEMPT": "2"])

        let first = factory.order(for: graph.instance("first:sub-01"), attempt: 1)
        #expect(first.name == "first:sub-01")
        #expect(first.command == "module load fsl\nfirst 'ds 1' ''")
        #expect(first.asideFolder == "/lab/job/results/.attempts/first/sub-01/0/files", "before any attempt: 0")
        #expect(first.timeoutSeconds == 60)

        let group = factory.order(for: graph.instance("group"), attempt: 1)
        #expect(group.name == "group")
        #expect(group.command == "module load fsl\ngroup 'ds 1'")
        #expect(group.instanceFolder == "/lab/job/results/group")
        #expect(group.environment.contains(.init(name: "COHORT_SUBJECT", value: "")))
    }

    /// What a worker receives (recipes once, then assignments) makes the
    /// order rank 0 would make itself: nothing is lost on the wire.
    @Test func recipesAndAssignmentsSurviveTheWire() throws {
        let graph = try InstanceGraph(job: job)
        let factory = TaskFactory(graph: graph, jobFolder: "/lab/job", exported: [.init(name: "X", value: "y z")])
        guard case .recipes(let recipes, _) = try SchedulerMessage(decoding: SchedulerMessage.recipes(factory.recipes, workerCpus: 2).encoded()) else {
            Issue.record("recipes did not come back as recipes")
            return
        }
        for index in 0..<graph.instanceCount {
            let instance = InstanceID(index)
            var assignment = factory.assignment(for: instance, attempt: index + 1)
            assignment.after = index > 0 ? InstanceID(index - 1) : nil
            guard case .run(let received) = try SchedulerMessage(decoding: SchedulerMessage.run([assignment]).encoded()) else {
                Issue.record("an order did not come back as an order")
                return
            }
            let made = recipes[received[0].stage].order(for: received[0])
            var expected = factory.order(for: instance, attempt: index + 1)
            expected.after = assignment.after
            #expect(made == expected)
            #expect(made.name == graph.name(of: instance))
        }
    }
}

/// Orders of generators and of the stages that run once per item.
@Suite struct ItemOrderTests {
    @Test func aGeneratorGetsAListFileAndAnItemInstanceItsItemAndAFolderOfItsOwn() throws {
        let job = try JobLoader.load(text: """
            study: cryo
            subjects: [grid1]
            sessions: [s1]
            stages:
              - {name: import, domain: session, items: true, run: 'ls raw > "$COHORT_ITEMS"'}
              - {name: ctf, foreach: import, run: 'ctf {item} {workdir}'}
            """, file: "job.yml")
        var graph = try InstanceGraph(job: job)
        let items = graph.list(["raw/m 1.tif", "100%.tif"], by: InstanceID(0)).added
        let factory = TaskFactory(graph: graph, jobFolder: "/lab")
        let generator = factory.order(for: InstanceID(0), attempt: 1)
        #expect(generator.itemsFile == "/lab/out/.attempts/import/grid1/s1/1/items")
        #expect(generator.environment.contains(.init(name: "COHORT_ITEMS", value: "/lab/out/.attempts/import/grid1/s1/1/items")))
        let first = factory.order(for: items[0], attempt: 1)
        #expect(first.name == "ctf:grid1:s1:raw/m 1.tif")
        #expect(first.instanceFolder == "/lab/out/ctf/grid1/s1/raw%2Fm 1.tif", "one folder per item, never nested in another's")
        #expect(first.command == "ctf 'raw/m 1.tif' '/lab/out/ctf/grid1/s1/raw%2Fm 1.tif'")
        #expect(first.environment.contains(.init(name: "COHORT_ITEM", value: "raw/m 1.tif")))
        #expect(first.itemsFile == nil)
        #expect(factory.order(for: items[1], attempt: 2).attemptFolder == "/lab/out/.attempts/ctf/grid1/s1/100%25.tif/2")
        // As a worker rank makes them from what travels.
        let recipes = try #require(try? SchedulerMessage(decoding: SchedulerMessage.recipes(factory.recipes, workerCpus: 2).encoded()))
        guard case .recipes(let received, _) = recipes else { Issue.record("not recipes"); return }
        let assignment = factory.assignment(for: items[0], attempt: 1)
        #expect(received[assignment.stage].order(for: assignment) == first)
    }
}
