# koryo-gsup-load: GSUP load client for bench/gsup_bench.sh (koryod against
# osmo-hlr, see docs/performance.md). It encodes and decodes GSUP with
# libosmogsm, an implementation independent of koryod's own, and is the same
# client for both servers. Built only when libosmogsm is installed.
pkg_check_modules(OSMOGSM IMPORTED_TARGET libosmogsm libosmocore)
if(OSMOGSM_FOUND)
  add_executable(koryo-gsup-load ${CMAKE_CURRENT_LIST_DIR}/gsup_load.c)
  target_link_libraries(koryo-gsup-load PRIVATE PkgConfig::OSMOGSM)
else()
  message(STATUS "libosmogsm not found: koryo-gsup-load (GSUP benchmark client) not built")
endif()
