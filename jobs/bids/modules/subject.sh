# Every session's T1w of this subject (one line each).
set -eu
find "out/anat/$COHORT_SUBJECT" -name t1w | sort | xargs cat > "$COHORT_WORKDIR/t1w-all"
echo "$COHORT_SUBJECT: $(wc -l < "$COHORT_WORKDIR/t1w-all") sessions"
