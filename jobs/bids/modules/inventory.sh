# The session's images, as BIDS lays them out: data/sub-XX[/ses-YY]/{anat,func}/.
# A subject without sessions has COHORT_SESSION empty.
set -eu
source="data/$COHORT_SUBJECT${COHORT_SESSION:+/$COHORT_SESSION}"
find "$source" -name '*.nii.gz' | sort > "$COHORT_WORKDIR/images"
test -s "$COHORT_WORKDIR/images" || { echo "no images under $source" >&2; exit 1; }
echo "$source: $(wc -l < "$COHORT_WORKDIR/images") images"
