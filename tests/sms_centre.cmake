# The SMS centre (docs/sms-centre.md) against a real store and registry, with
# fake delivery channels and a clock the test moves: durable acceptance,
# delivery, CDRs, retries and back-off, timeouts, expiry and status reports,
# order and window, concatenated text, restarts, content rules, limits and
# per-segment charging.
koryo_unit_test(test_smsc SOURCES unit/test_smsc.c unit/registry_fixture.c LIBS koryo_smsc)
target_compile_definitions(test_smsc PRIVATE
                           KORYO_PROFILE_DIR="${CMAKE_SOURCE_DIR}/profiles/koryolink")
