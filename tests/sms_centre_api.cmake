# The SMS centre as the operator sees it (docs/api.md "SMS centre"): messages
# waiting and held (never their text), release and delete, CDRs in JSON, JSON
# lines and CSV, /v1/sms/centre and the koryo_sms_* metrics, and koryo sms;
# fed by SIPp MESSAGEs against a real koryod in a loopback network namespace.
koryo_script_test(api_sms_centre integration/api_sms_centre.sh TIMEOUT 180)
set_property(TEST api_sms_centre APPEND PROPERTY ENVIRONMENT "SIP_UA=$<TARGET_FILE:sip_ua>")
