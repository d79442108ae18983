import CohortTesting
import Testing

/// What a module's environment holds under mpirun (DESIGN §7): none of the
/// launcher's variables, so an MPI module can run its own `mpirun`; the
/// user's Open MPI settings; thread counts from the stage's cpus.
@Suite(.serialized, .enabled(if: MPIHarness.shouldRun, "mpirun not found"))
struct ModuleEnvironmentTests {
    @Test func anMPIModuleRunsItsOwnMpirunAndThreadsFollowCpus() throws {
        let job = try MPIHarness.writeJob("""
            study: nested
            env: {MKL_NUM_THREADS: "1"}
            stages:
              - name: relion
                domain: study
                cpus: 2
                run: |
                  env | sed 's/=.*//' | sort > {workdir}/names
                  echo "$OMP_NUM_THREADS $MKL_NUM_THREADS $ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS $OMPI_MCA_btl_vader_backing_directory" > {workdir}/threads
                  mpirun --oversubscribe -np 2 sh -c 'echo rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE' | sort > {workdir}/ranks
            """)
        let out = String(job.dropLast("/job.yml".count)) + "/out/relion"
        let result = try MPIHarness.run(ranks: 2, ["run", job, "--slots", "2"], timeout: 120)
        #expect(result.code == 0, "\(result.output)\n\(Files.read(out + "/../.attempts/relion/1/stderr.log"))")
        #expect(Files.read(out + "/ranks") == "rank 0 of 2\nrank 1 of 2\n", "the module's own mpirun ran its own two ranks")
        let names = Files.read(out + "/names").split(separator: "\n")
        #expect(names.filter { $0.hasPrefix("PMIX_") || $0.hasPrefix("OMPI_COMM_WORLD") || $0.hasPrefix("OMPI_MCA_orte") }.isEmpty,
                "\(names.filter { $0.hasPrefix("PMIX") || $0.hasPrefix("OMPI") })")
        #expect(Files.read(out + "/threads") == "2 1 2 /tmp\n", "cpus, the job's own env, the user's Open MPI setting")
    }

    /// mpirun.sh has Cohort's ranks use ob1 on one host (UCX's probe costs
    /// a fifth of a second per start); modules do not inherit that choice,
    /// but do inherit the user's own.
    @Test func mpirunShsChoiceOfPmlStaysWithCohortsRanks() throws {
        let job = try MPIHarness.writeJob("""
            study: pml
            stages:
              - name: probe
                domain: study
                run: |
                  echo "${OMPI_MCA_pml-none} ${COHORT_MPIRUN_MCA-none}" > {workdir}/pml
            """)
        let out = String(job.dropLast("/job.yml".count)) + "/out/probe"
        for (users, expected) in [(nil, "none none\n"), ("ob1", "ob1 none\n")] as [(String?, String)] {
            var environment = ["COHORT_BIN": MPIHarness.binaryFolder]
            if let users { environment["OMPI_MCA_pml"] = users }
            let result = try ChildProcess([repository + "/mpirun.sh", "-np", "2", job, "--force", "probe"],
                                          environment: MPIHarness.environment(environment)).wait(timeout: 120)
            #expect(result.code == 0, "\(result.output)")
            #expect(Files.read(out + "/pml") == expected, "the user's pml: \(users ?? "none")")
        }
    }
}
