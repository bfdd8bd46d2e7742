# GSUP codec: IPA framing and CCM, GSUP decode/encode against the osmo-hlr wire
# captures (and against libosmogsm's own encoder/decoder when its development
# files are installed), and a bounded libFuzzer run over both decoders.
koryo_unit_test(test_ipa SOURCES unit/test_ipa.c LIBS koryo_hlr)
koryo_unit_test(test_gsup SOURCES unit/test_gsup.c LIBS koryo_hlr)
pkg_check_modules(OSMOGSM QUIET IMPORTED_TARGET libosmogsm libosmocore)
if(OSMOGSM_FOUND)
  # Byte-for-byte comparison with osmo_gsup_encode()/osmo_gsup_decode().
  target_compile_definitions(test_gsup PRIVATE KORYO_HAVE_LIBOSMOGSM=1)
  target_link_libraries(test_gsup PRIVATE PkgConfig::OSMOGSM)
endif()
koryo_script_test(fuzz_gsup integration/fuzz_gsup.sh TIMEOUT 180)
