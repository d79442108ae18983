# "Classifies" the study's particles: one line per session, and the total.
set -eu
total=0
for particles in out/pick/*/*/particles; do
    session=$(dirname "$particles")
    count=$(cat "$particles")
    echo "${session#out/pick/} $count"
    total=$((total + count))
done > "$COHORT_WORKDIR/classes"
echo "total $total" >> "$COHORT_WORKDIR/classes"
cat "$COHORT_WORKDIR/classes"
