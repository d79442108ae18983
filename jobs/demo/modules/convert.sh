# convert SUBJECT SESSION: "scan" a raw image, a grid of numbers seeded by
# subject and session (a stand-in for DICOM -> NIfTI).
. modules/lib.sh
subject=$1 session=$2
if [ -n "${DEMO_FAIL_SUBJECT:-}" ] && [ "$subject" = "$DEMO_FAIL_SUBJECT" ]; then
    echo "scanner file for $subject is corrupt" >&2
    exit 4
fi
seed=$(printf '%s%s' "$subject" "$session" | cksum | cut -d' ' -f1)
awk -v n="$IMAGE_SIZE" -v seed="$seed" 'BEGIN {
    srand(seed % 32768)
    for (i = 0; i < n; i++) { row = ""; for (j = 0; j < n; j++) row = row sprintf("%6.2f ", 100 + 10 * rand() + i); print row }
}' > "$COHORT_WORKDIR/raw.txt"
echo "converted $subject/$session: $(wc -l < "$COHORT_WORKDIR/raw.txt") rows"
