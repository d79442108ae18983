# smooth: 3-point moving average along each row.
. modules/lib.sh
image=$(input realign realigned.txt)
awk '{ row = ""; for (j = 1; j <= NF; j++) { lo = (j > 1) ? j - 1 : j; hi = (j < NF) ? j + 1 : j
         s = 0; for (k = lo; k <= hi; k++) s += $k; row = row sprintf("%6.2f ", s / (hi - lo + 1)) }
       print row }' "$image" > "$COHORT_WORKDIR/smoothed.txt"
echo "smoothed $image"
