# koryo-bench-ocs-load: durable credit operations per second (reserve and end
# of call sessions through the group commit), for bench/charging_bench.sh
# (see docs/performance.md, "Charging").
add_executable(koryo-bench-ocs-load ${CMAKE_CURRENT_LIST_DIR}/ocs_load.c)
target_link_libraries(koryo-bench-ocs-load PRIVATE koryo_ocs koryo_hlr koryo_store koryo_common)
