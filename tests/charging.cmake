# Online charging against a real koryod with the Koryolink profile: credit
# operations under load survive 12 SIGKILLs exactly once, and the ledger
# equals the balances.
koryo_script_test(charging_kill9 integration/charging_kill9.sh TIMEOUT 180)
# The operator's side: plans, accounts, card batches made by koryo voucher
# gen/upload, top-ups (API and CLI), adjustments, ledger paging, rated CDRs,
# and no PIN in any answer, log or store file.
koryo_script_test(api_charging integration/api_charging.sh TIMEOUT 180)
