# The policy engine (docs/policy.md): number analysis, rights, reserved
# ranges, switches and APNs, changes and their audit, with the Koryolink demo
# data; and its API and CLI against a real koryod.
koryo_unit_test(test_policy SOURCES unit/test_policy.c LIBS koryo_policy)
koryo_script_test(api_policy integration/api_policy.sh TIMEOUT 120)
