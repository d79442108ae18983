# Shared by the demo modules. Cohort runs each module with the job file's
# folder as working directory and COHORT_* describing the instance.
set -eu

OUT=out
: "${DEMO_DELAY:=0.1}"

# ledger begin|end: one line per event (stage subject session nanoseconds rank host),
# when DEMO_LEDGER names a file (tests use it).
ledger() {
    if [ -n "${DEMO_LEDGER:-}" ]; then
        printf '%s %s %s %s %s %s %s\n' "$1" "$COHORT_STAGE" "${COHORT_SUBJECT:--}" "${COHORT_SESSION:--}" \
            "$(date +%s%N)" "$COHORT_RANK" "$COHORT_HOST" >> "$DEMO_LEDGER"
    fi
}

# input STAGE FILE: a file another stage wrote for this subject/session.
input() {
    path="$OUT/$1"
    [ -n "${COHORT_SUBJECT:-}" ] && path="$path/$COHORT_SUBJECT"
    [ -n "${COHORT_SESSION:-}" ] && path="$path/$COHORT_SESSION"
    path="$path/$2"
    if [ ! -s "$path" ]; then
        echo "missing input $path" >&2
        exit 3
    fi
    echo "$path"
}

ledger begin
trap 'ledger end' EXIT
sleep "$DEMO_DELAY"
