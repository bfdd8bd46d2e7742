# The SIP registrar and proxy (docs/sip-testing.md): SIPp scenarios and
# tests/sip/sip_ua.c against a real koryod, each test inside a network
# namespace with only loopback. Needs root (ip netns) and sipp (Debian
# sip-tester, scripts/deps.sh test).
add_executable(sip_ua sip/sip_ua.c)
target_link_libraries(sip_ua PRIVATE koryo_sip koryo_crypto)

# sip_ua itself, against registrars played by SIPp and the TS 35.208 sets.
koryo_script_test(sip_ua integration/sip_ua.sh TIMEOUT 120)
# The registrar; waits out one registration's expiry (sip.min_expires = 30 s there).
koryo_script_test(sip_registrar integration/sip_registrar.sh TIMEOUT 300)
# The proxy: calls, CANCEL, MESSAGE, forking, Path, error answers.
koryo_script_test(sip_proxy integration/sip_proxy.sh TIMEOUT 240)
foreach(t sip_ua sip_registrar sip_proxy)
  set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SIP_UA=$<TARGET_FILE:sip_ua>")
endforeach()

# The routing hook: the service core with a hook that refuses one number.
add_executable(sip_hook_harness sip/sip_hook_harness.c)
target_link_libraries(sip_hook_harness PRIVATE koryo_sip_core koryo_daemon)
koryo_script_test(sip_route_hook integration/sip_route_hook.sh TIMEOUT 120)
set_property(TEST sip_route_hook APPEND PROPERTY ENVIRONMENT
             "SIP_UA=$<TARGET_FILE:sip_ua>" "SIP_HOOK_HARNESS=$<TARGET_FILE:sip_hook_harness>")

# The policy engine in the proxy: refusals naming their rule, a call ended by a change.
koryo_script_test(sip_policy integration/sip_policy.sh TIMEOUT 120)
set_property(TEST sip_policy APPEND PROPERTY ENVIRONMENT "SIP_UA=$<TARGET_FILE:sip_ua>")

# Credit control in the proxy: no credit, cut off on time, top-up by service code.
koryo_script_test(sip_charging integration/sip_charging.sh TIMEOUT 150)
set_property(TEST sip_charging APPEND PROPERTY ENVIRONMENT "SIP_UA=$<TARGET_FILE:sip_ua>")

# The SMS centre through SIP: both forms, conversion, segments, kept
# messages, reports, content rules, kill -9, expiry.
add_executable(sms_phone sip/sms_phone.c)
target_link_libraries(sms_phone PRIVATE koryo_sms_codec koryo_common)
koryo_script_test(sip_sms integration/sip_sms.sh TIMEOUT 240)
set_property(TEST sip_sms APPEND PROPERTY ENVIRONMENT "SIP_UA=$<TARGET_FILE:sip_ua>"
             "SMS_PHONE=$<TARGET_FILE:sms_phone>")
