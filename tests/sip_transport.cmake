# The SIP transport (docs/sip-transport.md): koryod's UDP and TCP listeners
# driven by SIPp and by raw messages (the RFC 4475 torture set) inside a
# network namespace with only loopback. Needs root (ip netns) and sipp
# (Debian sip-tester, scripts/deps.sh test).
koryo_unit_test(test_sip_reply SOURCES unit/test_sip_reply.c LIBS koryo_sip)

add_executable(sip_probe sip/sip_probe.c)

koryo_script_test(sip_transport integration/sip_transport.sh TIMEOUT 180)
set_property(TEST sip_transport APPEND PROPERTY ENVIRONMENT "SIP_PROBE=$<TARGET_FILE:sip_probe>")
