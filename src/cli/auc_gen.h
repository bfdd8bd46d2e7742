/*
 * `koryo auc-gen`: compute one UMTS AKA vector (and GSM triplet) offline from
 * K, OP/OPc, AMF, SQN and RAND, optionally resynchronising from an AUTS, with
 * the same results as Osmocom's `osmo-auc-gen -3 -a milenage`. See docs/auc.md.
 */
#ifndef KORYO_CLI_AUC_GEN_H
#define KORYO_CLI_AUC_GEN_H

/*
 * Entry point for `koryo auc-gen ...`; argv[0] is "auc-gen". Prints the vector
 * to stdout. Returns the process exit status: 0 on success (and for --help),
 * 1 if the AUTS does not verify or the crypto library failed, 2 for bad usage
 * (the message on stderr names the option).
 */
int cli_auc_gen(int argc, char **argv);

#endif
