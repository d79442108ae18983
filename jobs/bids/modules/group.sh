# One line per subject, with its group from participants.tsv.
set -eu
for summary in out/subject/*/t1w-all; do
    subject=$(basename "$(dirname "$summary")")
    group=$(awk -F'\t' -v s="$subject" '$1 == s { print $3 }' data/participants.tsv)
    echo "$subject $group $(wc -l < "$summary")"
done > "$COHORT_WORKDIR/table"
cat "$COHORT_WORKDIR/table"
