# group: the study-level model, the mean of all subjects' maps, and a report.
. modules/lib.sh
maps=$(ls "$OUT"/firstlevel/*/map.txt)
# shellcheck disable=SC2086
awk '{ for (j = 1; j <= NF; j++) s += $j; n += NF } END { printf "group mean %.4f over %d values\n", s / n, n }' $maps \
    > "$COHORT_WORKDIR/report.txt"
echo "subjects: $(echo "$maps" | wc -l)" >> "$COHORT_WORKDIR/report.txt"
cat "$OUT"/qa/*/qa.txt | awk '{ s += $2; n++ } END { printf "qa: mean row difference %.3f over %d sessions\n", s / n, n }' >> "$COHORT_WORKDIR/report.txt"
cat "$COHORT_WORKDIR/report.txt"
