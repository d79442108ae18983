# "Picks" particles on every movie of the session: 100 per movie. It counts
# the session's movies as they are now, not the folders under out/ctf: a
# movie that left the session (and its results, left on disk) is not counted.
set -eu
count=0
for movie in "raw/$COHORT_SUBJECT/$COHORT_SESSION"/*.tif; do
    ctf="out/ctf/$COHORT_SUBJECT/$COHORT_SESSION/$(basename "$movie")/ctf"
    if [ -e "$movie" ] && [ -e "$ctf" ]; then count=$((count + 100)); fi
done
echo "$count" > "$COHORT_WORKDIR/particles"
echo "$COHORT_SUBJECT/$COHORT_SESSION: $count particles"
