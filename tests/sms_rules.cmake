# The SMS content rules engine (docs/sms-rules.md): words and regular
# expressions, priorities, actions, class and prefix matching, the flood
# limit, refused rules, durability and the record of matches, with the
# Koryolink demo rules; and its API and CLI against a real koryod.
koryo_unit_test(test_sms_rules SOURCES unit/test_sms_rules.c LIBS koryo_sms_rules)
koryo_script_test(api_sms integration/api_sms.sh TIMEOUT 120)
