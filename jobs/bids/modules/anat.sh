# Picks the session's T1w image from its inventory.
set -eu
# A subject without sessions has its per-session folders under no-session/.
inventory="out/inventory/$COHORT_SUBJECT/${COHORT_SESSION:-no-session}/images"
grep '_T1w\.nii\.gz$' "$inventory" > "$COHORT_WORKDIR/t1w"
