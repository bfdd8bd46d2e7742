# Core: koryod's configuration, the CSV reader, the store (migrations and the
# SQL interface), the subscriber registry and the AuC, and koryod refusing a bad
# configuration before it touches anything.
koryo_unit_test(test_config SOURCES unit/test_config.c LIBS koryo_common)
koryo_unit_test(test_csv SOURCES unit/test_csv.c LIBS koryo_common)
koryo_unit_test(test_store SOURCES unit/test_store.c LIBS koryo_store)
koryo_unit_test(test_registry SOURCES unit/test_registry.c unit/registry_fixture.c LIBS koryo_hlr)
koryo_unit_test(test_auc SOURCES unit/test_auc.c unit/registry_fixture.c LIBS koryo_hlr)
koryo_script_test(koryod_config_errors integration/koryod_config_errors.sh TIMEOUT 60)
