# Picks the session's T1w image from its inventory.
set -eu
inventory="out/inventory/$COHORT_SUBJECT${COHORT_SESSION:+/$COHORT_SESSION}/images"
grep '_T1w\.nii\.gz$' "$inventory" > "$COHORT_WORKDIR/t1w"
