# Online charging's own tests: the engine against a real store and the
# Koryolink plans (unit), and a real koryod whose clock is moved a month and a
# quarter on across restarts (integration).
koryo_unit_test(test_ocs SOURCES unit/test_ocs.c unit/registry_fixture.c LIBS koryo_ocs)
target_compile_definitions(test_ocs PRIVATE
                           KORYO_PROFILE_DIR="${CMAKE_SOURCE_DIR}/profiles/koryolink")
koryo_script_test(charging_schedule integration/charging_schedule.sh TIMEOUT 240)
