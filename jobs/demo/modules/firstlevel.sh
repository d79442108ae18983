# firstlevel: average this subject's smoothed sessions into one map.
. modules/lib.sh
files=$(ls "$OUT"/smooth/"$COHORT_SUBJECT"/*/smoothed.txt)
count=$(echo "$files" | wc -l)
# shellcheck disable=SC2086
awk -v count="$count" '{ for (j = 1; j <= NF; j++) sum[FNR, j] += $j; rows = FNR; cols = NF }
     END { for (i = 1; i <= rows; i++) { row = ""; for (j = 1; j <= cols; j++) row = row sprintf("%6.2f ", sum[i, j] / count); print row } }' \
    $files > "$COHORT_WORKDIR/map.txt"
echo "$count" > "$COHORT_WORKDIR/sessions.txt"
echo "first-level map of $COHORT_SUBJECT from $count session(s)"
