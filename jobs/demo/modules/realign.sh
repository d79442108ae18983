# realign: remove each row's drift (subtract the row mean).
. modules/lib.sh
raw=$(input convert raw.txt)
awk '{ s = 0; for (j = 1; j <= NF; j++) s += $j; m = s / NF; row = ""
       for (j = 1; j <= NF; j++) row = row sprintf("%6.2f ", $j - m); print row }' "$raw" > "$COHORT_WORKDIR/realigned.txt"
echo "realigned $raw"
