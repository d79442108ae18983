/// The environment a module starts with (DESIGN §7): the worker's own,
/// without what the MPI launcher injected into the worker rank, and with
/// thread counts set to the stage's cpus.
///
/// A module that is itself an MPI program (`mpirun -np 8 relion_refine_mpi`)
/// must not see the variables that made its worker a rank of Cohort's job:
/// with them, its `mpirun` tries to join that job and fails silently.
/// Settings a user gives Open MPI (`OMPI_MCA_btl=…` from `module load`,
/// `OMPI_ALLOW_RUN_AS_ROOT`) stay.
public enum ModuleEnvironment {
    /// Whole families the launcher (Open MPI 4's ORTE or 5's PRRTE, PMIx) sets per rank.
    static let launcherPrefixes = [
        "PMIX_", "PMI_", "PRTE_", "OMPI_COMM_WORLD_", "OMPI_APP_CTX_",
        "OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix", "OMPI_MCA_prte_",
    ]
    /// Single variables the launcher sets per rank.
    static let launcherNames: Set<String> = [
        "OMPI_COMMAND", "OMPI_ARGV", "OMPI_FILE_LOCATION", "OMPI_FIRST_RANKS", "OMPI_NUM_APP_CTX",
        "OMPI_UNIVERSE_SIZE", "OMPI_MCA_initial_wdir", "OMPI_MCA_shmem_RUNTIME_QUERY_hint",
        "OMPI_MCA_mpi_oversubscribe", "OMPI_MCA_mpi_yield_when_idle",
        // From the launch's own flags (`--oversubscribe`, `--bind-to none`).
        "OMPI_MCA_rmaps_base_oversubscribe", "OMPI_MCA_hwloc_base_binding_policy",
        // Set for the ranks of a one-node job: a module's own MPI program on
        // Omni-Path would be held to one node by `PSM2_DEVICES=self,shm`.
        "PSM2_DEVICES", "HFI_NO_BACKTRACE", "IPATH_NO_BACKTRACE",
    ]
    /// What `mpirun.sh` tells Cohort's own ranks (the stop note, the user's
    /// terminal and its size, the MCA settings it chose): not the modules' business.
    static let cohortNames: Set<String> = [
        "COHORT_STOP_NOTE", "COHORT_TERMINAL", "COHORT_COLUMNS", "COHORT_LINES", mpirunSettings,
    ]
    /// Names the MCA parameters `mpirun.sh` chose for Cohort's own ranks
    /// (`pml`: ob1 on one host), comma separated: a module's own MPI
    /// program makes its own choice, as it would outside Cohort.
    static let mpirunSettings = "COHORT_MPIRUN_MCA"

    /// Whether the MPI launcher put `name` into the worker rank's environment.
    public static func isLaunchers(_ name: String) -> Bool {
        launcherNames.contains(name) || launcherPrefixes.contains { name.hasPrefix($0) }
    }

    /// Variables threaded libraries and tools read for their thread count:
    /// OpenMP, the BLAS/LAPACK builds (MKL, OpenBLAS, BLIS, Accelerate's
    /// vecLib), numexpr, ITK (ANTs), MRtrix3, FreeSurfer, Julia, TensorFlow.
    public static let threadVariables = [
        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS", "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", "MRTRIX_NTHREADS", "FS_OMP_NUM_THREADS",
        "JULIA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
    ]

    /// Thread counts for a stage with `cpus`, except those the job's `env` sets itself.
    public static func threadDefaults(cpus: Int, jobEnvironment: [EnvironmentVariable]) -> [EnvironmentVariable] {
        let set = Set(jobEnvironment.map(\.name))
        return threadVariables.filter { !set.contains($0) }.map { EnvironmentVariable(name: $0, value: String(cpus)) }
    }

    /// `inherited` (the worker's environment) without the launcher's variables and Cohort's own.
    public static func cleaned(_ inherited: [String: String]) -> [String: String] {
        let chosen = Set((inherited[mpirunSettings] ?? "").split(separator: ",").map { "OMPI_MCA_\($0)" })
        return inherited.filter { !isLaunchers($0.key) && !cohortNames.contains($0.key) && !chosen.contains($0.key) }
    }
}
