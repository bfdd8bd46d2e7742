# SIP digest authentication: RFC 7616 / RFC 2617 responses, registrar nonces,
# Digest AKAv1-MD5 (RFC 3310) nonces and auts.
koryo_unit_test(test_digest SOURCES unit/test_digest.c LIBS koryo_crypto)
