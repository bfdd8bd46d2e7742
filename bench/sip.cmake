# koryo-bench-sip-parse: SIP messages parsed per second per core (see docs/sip-parser.md).
add_executable(koryo-bench-sip-parse ${CMAKE_CURRENT_LIST_DIR}/sip_parse_bench.c)
target_link_libraries(koryo-bench-sip-parse PRIVATE koryo_sip)
target_compile_definitions(koryo-bench-sip-parse
                           PRIVATE KORYO_TESTDATA_DEFAULT="${CMAKE_SOURCE_DIR}/../shared/testdata")

# libkoryo-sip-clock-shim.so: LD_PRELOAD for SIPp in bench/sip_bench.sh, so that
# SIPp's CLOCK_MONOTONIC_COARSE reads (4 ms steps here) get CLOCK_MONOTONIC.
add_library(koryo-sip-clock-shim SHARED ${CMAKE_CURRENT_LIST_DIR}/sip_clock_shim.c)
target_link_libraries(koryo-sip-clock-shim PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(koryo-sip-clock-shim PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
# Never sanitized: it is preloaded into SIPp, which has no ASan runtime.
target_compile_options(koryo-sip-clock-shim PRIVATE -fno-sanitize=all)
target_link_options(koryo-sip-clock-shim PRIVATE -fno-sanitize=all)
