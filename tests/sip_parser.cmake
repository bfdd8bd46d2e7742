# SIP parser: the RFC 4475 torture messages and focused message/URI tests, and a
# bounded libFuzzer run over the parser (see docs/sip-parser.md).
koryo_unit_test(test_sip_msg SOURCES unit/test_sip_msg.c LIBS koryo_sip)
koryo_unit_test(test_sip_uri SOURCES unit/test_sip_uri.c LIBS koryo_sip)
koryo_script_test(fuzz_sip integration/fuzz_sip.sh TIMEOUT 180)
