# Online charging against a real koryod with the Koryolink profile: credit
# operations under load survive 12 SIGKILLs exactly once, and the ledger
# equals the balances.
koryo_script_test(charging_kill9 integration/charging_kill9.sh TIMEOUT 180)
