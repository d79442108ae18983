# Every session's T1w of this subject (one line each): the sessions the
# dataset has now (results of sessions since removed stay on disk, unread).
set -eu
sessions=$(cd "data/$COHORT_SUBJECT" && ls -d ses-* 2>/dev/null || echo no-session)
for session in $sessions; do cat "out/anat/$COHORT_SUBJECT/$session/t1w"; done > "$COHORT_WORKDIR/t1w-all"
echo "$COHORT_SUBJECT: $(wc -l < "$COHORT_WORKDIR/t1w-all") sessions"
