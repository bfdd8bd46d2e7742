# SIP transactions (RFC 3261 section 17): the four state machines, matching, and
# limits, driven with a fake clock (see docs/sip-transactions.md).
koryo_unit_test(test_sip_txn SOURCES unit/test_sip_txn.c LIBS koryo_sip)
