// swift-tools-version: 6.2
import PackageDescription

/// Strict settings shared by every target we own.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Cohort",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cohort", targets: ["cohort"]),
        .executable(name: "cohort-supervise", targets: ["cohort-supervise"]),
    ],
    dependencies: [
        // CLI parsing for the `cohort` executable only.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // YAML parsing of job files (we walk its node tree ourselves).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Diagnostics: the library takes a Logger, the CLI picks the handler and level.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // OpenMPI's C API, found through pkg-config (`ompi-c`), plus a tiny shim for its cast macros.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        // Job model, YAML loading, validation, DAG, scheduler state machine: no MPI, no processes, no printing.
        .target(
            name: "CohortCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        // The only Swift target that imports CMPI: communicator, typed messages, errors.
        .target(
            name: "CohortMPI",
            dependencies: ["CMPI", "CohortCore"],
            swiftSettings: strictSettings
        ),
        // Rank-0 loop, worker loop, process runner, the study's state on disk.
        .target(
            name: "CohortRun",
            dependencies: ["CohortCore", "CohortMPI", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cohort",
            dependencies: [
                "CohortCore", "CohortRun",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // A module's direct parent: keeps a module's whole process group from outliving its worker.
        .executableTarget(
            name: "cohort-supervise",
            cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])],
            // SwiftPM links every executable with the Swift runtime, which this C
            // program never calls: loading it dynamically cost 2.5 ms per module
            // started, linked statically 0.8 ms. (The linker then warns that the
            // runtime's unused dlopen needs glibc's shared libraries: harmless.)
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // Runs job-file text through the loader; a libFuzzer target when built with -DFUZZING.
        .executableTarget(
            name: "cohort-fuzz-loader",
            dependencies: ["CohortCore"],
            path: "fuzz/LoaderFuzzer",
            swiftSettings: strictSettings
        ),
        // Scale benchmark of graph expansion and scheduling (no MPI).
        .executableTarget(
            name: "cohort-bench",
            dependencies: ["CohortCore"],
            path: "bench/Sources",
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortTesting",
            dependencies: ["CohortCore", "CohortRun"],
            path: "Tests/CohortTesting",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CohortCoreTests",
            dependencies: ["CohortCore", "CohortTesting"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CohortMPITests",
            dependencies: ["CohortMPI", "CohortCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CohortRunTests",
            dependencies: ["CohortRun", "CohortCore", "CohortMPI", "CohortTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["CohortCore", "CohortTesting"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
