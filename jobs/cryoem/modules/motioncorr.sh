# "Aligns" one movie: records which movie it was and a made-up drift.
set -eu
movie="$1"
test -e "$movie"
sleep 0.2
drift=$(printf '%s' "$movie" | cksum | cut -c1-2)
printf '%s drift=%s.%s A\n' "$movie" "${drift%?}" "${drift#?}" > "$COHORT_WORKDIR/aligned"
