# qa: collect this subject's tsdiffana measures.
. modules/lib.sh
for f in "$OUT"/tsdiffana/"$COHORT_SUBJECT"/*/diff.txt; do
    printf '%s %s\n' "$(basename "$(dirname "$f")")" "$(cat "$f")"
done > "$COHORT_WORKDIR/qa.txt"
echo "qa for $COHORT_SUBJECT: $(wc -l < "$COHORT_WORKDIR/qa.txt") session(s)"
