# koryo-bench-sip-parse: SIP messages parsed per second per core (see docs/sip-parser.md).
add_executable(koryo-bench-sip-parse ${CMAKE_CURRENT_LIST_DIR}/sip_parse_bench.c)
target_link_libraries(koryo-bench-sip-parse PRIVATE koryo_sip)
target_compile_definitions(koryo-bench-sip-parse
                           PRIVATE KORYO_TESTDATA_DEFAULT="${CMAKE_SOURCE_DIR}/../shared/testdata")
