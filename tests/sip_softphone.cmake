# A real softphone (Debian's baresip, headless) registers to koryod with a
# digest password and calls a subscriber played by SIPp, inside a network
# namespace with only loopback (docs/softphones.md). Needs root (ip netns),
# baresip-core and sip-tester (scripts/deps.sh test).
koryo_script_test(sip_softphone integration/sip_softphone.sh TIMEOUT 180)
