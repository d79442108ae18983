import CohortCore
import Testing

@Suite struct ModuleEnvironmentUnitTests {
    /// Names Open MPI 4.1's mpirun put into a rank here, and settings a user gives it.
    @Test func theLaunchersVariablesGoAndTheUsersStay() {
        let inherited = [
            "PMIX_RANK": "1", "PMIX_SERVER_URI41": "x", "OMPI_COMM_WORLD_RANK": "1", "OMPI_MCA_orte_hnp_uri": "x",
            "OMPI_MCA_ess": "pmi", "OMPI_MCA_ess_base_jobid": "1", "OMPI_MCA_pmix": "^s1", "OMPI_UNIVERSE_SIZE": "2",
            "OMPI_MCA_initial_wdir": "/", "OMPI_FIRST_RANKS": "0", "OMPI_APP_CTX_NUM_PROCS": "2",
            "OMPI_MCA_btl": "self,tcp", "OMPI_MCA_opal_cuda_support": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
            "PATH": "/usr/bin", "SLURM_JOB_ID": "7",
            "PSM2_DEVICES": "self,shm", "HFI_NO_BACKTRACE": "1", "IPATH_NO_BACKTRACE": "1",
            "COHORT_STOP_NOTE": "/tmp/x", "COHORT_TERMINAL": "1", "COHORT_COLUMNS": "80", "COHORT_LINES": "24",
        ]
        #expect(ModuleEnvironment.cleaned(inherited).keys.sorted()
                == ["OMPI_ALLOW_RUN_AS_ROOT", "OMPI_MCA_btl", "OMPI_MCA_opal_cuda_support", "PATH", "SLURM_JOB_ID"])
    }

    /// mpirun.sh picks ob1 for Cohort's own ranks on one host; a module's
    /// own MPI program picks for itself, unless the user chose.
    @Test func theMCASettingsMpirunShChoseGoAndTheUsersStay() {
        let chosen = ["OMPI_MCA_pml": "ob1", "COHORT_MPIRUN_MCA": "pml", "OMPI_MCA_btl": "self,vader", "PATH": "/usr/bin"]
        #expect(ModuleEnvironment.cleaned(chosen) == ["OMPI_MCA_btl": "self,vader", "PATH": "/usr/bin"])
        let users = ["OMPI_MCA_pml": "ucx", "COHORT_MPIRUN_MCA": "", "PATH": "/usr/bin"]
        #expect(ModuleEnvironment.cleaned(users) == ["OMPI_MCA_pml": "ucx", "PATH": "/usr/bin"])
    }

    @Test func threadCountsFollowCpusUnlessTheJobSetsThem() {
        let defaults = ModuleEnvironment.threadDefaults(cpus: 4, jobEnvironment: [EnvironmentVariable(name: "OMP_NUM_THREADS", value: "1")])
        #expect(!defaults.contains { $0.name == "OMP_NUM_THREADS" })
        #expect(defaults.contains(EnvironmentVariable(name: "MKL_NUM_THREADS", value: "4")))
        #expect(defaults.contains(EnvironmentVariable(name: "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", value: "4")))
        #expect(defaults.contains(EnvironmentVariable(name: "MRTRIX_NTHREADS", value: "4")))
    }
}
