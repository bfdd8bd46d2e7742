# Crypto: MILENAGE conformance, AKA/SQN/resync, secret boxes and key files,
# and `koryo auc-gen` compared with osmo-auc-gen.
koryo_unit_test(test_milenage SOURCES unit/test_milenage.c LIBS koryo_crypto)
koryo_unit_test(test_aka SOURCES unit/test_aka.c LIBS koryo_crypto)
koryo_unit_test(test_secretbox SOURCES unit/test_secretbox.c LIBS koryo_crypto)
koryo_script_test(auc_gen_compare integration/auc_gen_compare.sh TIMEOUT 120)
# 77: osmo-auc-gen (libosmocore-utils) or openssl is not installed.
set_tests_properties(auc_gen_compare PROPERTIES SKIP_RETURN_CODE 77)
