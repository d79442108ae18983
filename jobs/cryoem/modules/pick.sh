# "Picks" particles on every movie of the session: 100 per movie.
set -eu
count=0
for ctf in "out/ctf/$COHORT_SUBJECT/$COHORT_SESSION"/*/ctf; do
    if [ -e "$ctf" ]; then count=$((count + 100)); fi
done
echo "$count" > "$COHORT_WORKDIR/particles"
echo "$COHORT_SUBJECT/$COHORT_SESSION: $count particles"
