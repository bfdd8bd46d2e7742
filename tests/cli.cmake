# The koryo CLI: help and usage errors (no koryod needed), subscriber commands
# and CSV import against a real koryod.
koryo_script_test(cli_help integration/cli_help.sh TIMEOUT 60)
koryo_script_test(cli_sub integration/cli_sub.sh TIMEOUT 300)
koryo_script_test(cli_import integration/cli_import.sh TIMEOUT 600)
