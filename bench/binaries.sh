# Sourced by the benchmarks: `bench_binaries PRODUCT...` sets $bin to the
# folder of the binaries to measure — $COHORT_BIN when set (the tests'
# smoke run uses their own debug build), else a release build made now.
bench_binaries() {
    if [ -n "${COHORT_BIN:-}" ]; then
        bin=$COHORT_BIN
        return
    fi
    local product
    for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
    bin=.build/release
}
