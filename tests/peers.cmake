# The real Osmocom peers (osmo-msc, osmo-sgsn) against koryod's GSUP server.
#
# koryo_sctp_shim: LD_PRELOAD aid that lets osmo-msc start without kernel SCTP
# (tests/peers/sctp_shim.c). It is loaded into an uninstrumented program, so
# it is built without the sanitizers even when KORYO_SANITIZE is on (an ASan
# library preloaded into a non-ASan binary aborts at start-up).
add_library(koryo_sctp_shim SHARED peers/sctp_shim.c)
target_link_libraries(koryo_sctp_shim PRIVATE ${CMAKE_DL_LIBS})
foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
  get_target_property(opts koryo_sctp_shim ${prop})
  if(opts)
    list(FILTER opts EXCLUDE REGEX "sanitize|omit-frame-pointer")
    set_target_properties(koryo_sctp_shim PROPERTIES ${prop} "${opts}")
  endif()
endforeach()

koryo_script_test(osmo_peers integration/osmo_peers.sh TIMEOUT 180)
set_property(TEST osmo_peers APPEND PROPERTY ENVIRONMENT "SCTP_SHIM=$<TARGET_FILE:koryo_sctp_shim>")
# 77: osmo-msc or osmo-sgsn is not installed.
set_tests_properties(osmo_peers PROPERTIES SKIP_RETURN_CODE 77)
