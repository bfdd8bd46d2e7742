# SMS codec (docs/sms-codec.md): the published PDUs of
# $KORYO_TESTDATA/sms/sms_pdus.tsv decoded and re-encoded, splitting and
# reassembly, RP messages and malformed input; and a bounded libFuzzer run.
koryo_unit_test(test_tpdu SOURCES unit/test_tpdu.c LIBS koryo_sms_codec)
target_compile_definitions(test_tpdu PRIVATE SMS_PDUS_TSV="${KORYO_TESTDATA}/sms/sms_pdus.tsv")
koryo_script_test(fuzz_tpdu integration/fuzz_tpdu.sh TIMEOUT 120)
