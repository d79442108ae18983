# Lists the session's movies, one per line, for motioncorr and ctf.
set -eu
cd "raw/$COHORT_SUBJECT/$COHORT_SESSION"
for movie in *.tif; do
    if [ -e "$movie" ]; then echo "$movie"; fi
done > "$COHORT_ITEMS"
echo "$(wc -l < "$COHORT_ITEMS") movies in $COHORT_SUBJECT/$COHORT_SESSION"
