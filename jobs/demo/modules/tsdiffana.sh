# tsdiffana: row-to-row difference of the raw image, a quality measure.
. modules/lib.sh
raw=$(input convert raw.txt)
awk 'NR > 1 { d = 0; for (j = 1; j <= NF; j++) d += ($j - prev[j]) ^ 2; total += d }
     { for (j = 1; j <= NF; j++) prev[j] = $j }
     END { printf "%.3f\n", total / (NR - 1) }' "$raw" > "$COHORT_WORKDIR/diff.txt"
echo "mean squared row difference: $(cat "$COHORT_WORKDIR/diff.txt")"
