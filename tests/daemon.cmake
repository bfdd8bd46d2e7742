# koryod itself: options, the example configuration, start and stop.
koryo_script_test(koryod_basics integration/koryod_basics.sh TIMEOUT 120)
