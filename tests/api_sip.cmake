# The operator API of the SIP service core against a real koryod: SIP
# passwords (never echoed, logged or stored in clear), registrations, calls,
# call detail records (paging, CSV), the SIP core's metrics, and SIP off.
koryo_script_test(api_sip integration/api_sip.sh TIMEOUT 120)
