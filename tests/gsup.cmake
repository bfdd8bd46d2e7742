# GSUP (docs/gsup.md) against a real koryod: a scripted VLR/SGSN client built on
# Osmocom's own libosmo-gsup-client and libosmogsm codec, with every vector
# recomputed by koryo_crypto; bad input on the wire that must never disturb
# other peers; and SMS over GSUP through koryod's SMS centre.
pkg_check_modules(OSMO REQUIRED IMPORTED_TARGET libosmo-gsup-client libosmogsm libosmocore)

add_executable(gsup_test_client gsup/gsup_test_client.c)
target_link_libraries(gsup_test_client PRIVATE koryo_crypto PkgConfig::OSMO PkgConfig::CURL
                                               PkgConfig::JANSSON)
# libosmogsm has its own milenage_f1/milenage_f2345/milenage_opc_gen with other
# signatures; if the executable exported koryo_crypto's, libosmogsm's internal
# calls would bind to them and its MILENAGE (used here as an independent check)
# would compute garbage. Keep koryo_crypto's symbols out of the dynamic table.
target_link_options(gsup_test_client PRIVATE "LINKER:--exclude-libs,libkoryo_crypto.a")

koryo_script_test(gsup_client integration/gsup_client.sh TIMEOUT 180)
koryo_script_test(gsup_badinput integration/gsup_badinput.sh TIMEOUT 120)
# SMS over GSUP with koryod's SMS centre: MO, MT, absent subscribers, ReadyForSM.
koryo_script_test(gsup_sms integration/gsup_sms.sh TIMEOUT 120)
foreach(t gsup_client gsup_badinput gsup_sms)
  set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
               "GSUP_TEST_CLIENT=$<TARGET_FILE:gsup_test_client>")
endforeach()
