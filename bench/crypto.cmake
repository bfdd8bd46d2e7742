# koryo-bench-milenage: AKA vectors per second per core (see docs/auc.md).
add_executable(koryo-bench-milenage ${CMAKE_CURRENT_LIST_DIR}/milenage_bench.c)
target_link_libraries(koryo-bench-milenage PRIVATE koryo_crypto)
