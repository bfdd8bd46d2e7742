# The REST API against a real koryod with the Koryolink demo profile: subscriber
# CRUD, list and import with exact errors; authentication and /metrics; secrets
# kept out of responses, log and store, and durability across SIGTERM and kill -9.
koryo_script_test(api_subscribers integration/api_subscribers.sh TIMEOUT 120)
koryo_script_test(api_auth_metrics integration/api_auth_metrics.sh TIMEOUT 120)
koryo_script_test(api_durability integration/api_durability.sh TIMEOUT 120)
