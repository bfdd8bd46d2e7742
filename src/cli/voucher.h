/* koryo voucher gen and upload: top-up cards made offline and their PIN hashes
 * sent to koryod (docs/charging.md, "Top-up cards"). */
#pragma once

#include "cli/cli.h"

/* koryo voucher gen: draws a batch's serials and PINs and writes the card
 * file; runs locally and sends nothing. Returns an enum cli_exit. */
int cli_voucher_gen(struct cli_ctx *ctx, int argc, char **argv);

/* koryo voucher upload FILE: hashes the PINs of a card file as koryod checks
 * them and sends the hashes in parts, resuming after the cards koryod has.
 * Returns an enum cli_exit. */
int cli_voucher_upload(struct cli_ctx *ctx, int argc, char **argv);
