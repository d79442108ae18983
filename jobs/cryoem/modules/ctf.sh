# "Estimates" the defocus of one aligned movie.
set -eu
aligned="out/motioncorr/$COHORT_SUBJECT/$COHORT_SESSION/$COHORT_ITEM/aligned"
sleep 0.1
defocus=$(cksum < "$aligned" | cut -c1-2)
echo "$COHORT_ITEM defocus=-$defocus.0um" > "$COHORT_WORKDIR/ctf"
