# Stand-in scenario for the demo and the Quarkus tests (paths relative to the repository root): the mixed
# slave's real outputs, 7 binary packages and 3 compiled because this slave's USE differs from the master's.
PRETEND=src/test/resources/fixtures/emerge/030-slave-mixed-pretend-verbose.color.rc0.txt
MERGE=src/test/resources/fixtures/emerge/035-slave-mixed-merge.color.rc0.txt
LINE_DELAY=0.02
# one-pass (binhost.update.resolution=one-pass, the demo's): the same slave's real emerge --ask transcripts
ASK=src/test/resources/fixtures/ask/slave-mixed-ask-yes.rc0.txt
ASK_NO=src/test/resources/fixtures/ask/slave-mixed-ask-no.rc130.txt
# Portage's records of that run (its emerge.log session; vdb entries as Portage writes them) go under the demo's
# and the Quarkus tests' own root, binhost.update.eroot
EROOT=target/standin-eroot
MERGE_LOG=src/test/resources/fixtures/records/sessions/slave-mixed-merge.emerge.log
DEPCLEAN=src/test/resources/fixtures/followup/00-clean/depclean.rc0.txt
