#pragma once
/* Responses built from a parsed request (RFC 3261 8.2.6, RFC 3581), into a
 * caller's buffer: no allocation, no I/O, no global state. The transport
 * (sip_server.c) answers with them statelessly; the transaction layer will
 * hand the same text to sip_txn_server_send_response().
 *
 * What a response carries, in this order:
 *   SIP/2.0 CODE REASON
 *   Via: every Via field of the request, in order; the top value gets
 *        ;received=SOURCE-IP;rport=SOURCE-PORT (old received/rport values
 *        replaced) when it asks for rport or its sent-by is not the source
 *   From, To (with a tag added to a final response whose To has none),
 *   Call-ID, CSeq: copied as written
 *   the caller's extra header lines (Allow, Unsupported, ...)
 *   Server: the caller's product string
 *   Content-Length: 0 */

#include <stddef.h>
#include <stdint.h>

#include "sip/sip_msg.h"

/* Big enough for the answer to any request koryod accepts: a response
 * copies at most the request's header block. */
#define SIP_REPLY_MAX 65536

struct sip_reply_opts {
	uint32_t src_addr;  /* the request's source IPv4 address, network order */
	uint16_t src_port;  /* its source port, host order */
	const char *server; /* the Server header's value; NULL for none */
	const char *extra;  /* header lines, each ending in CRLF; NULL for none */
	uint64_t tag_salt;  /* secret mixed into the To tags (one per process) */
};

/* The standard reason phrase of a status code ("Not Implemented"); "" for a
 * code RFC 3261 does not name. */
const char *sip_reason_phrase(int status);

/* Builds the response with status (100-699) and reason (NULL: the standard
 * phrase; it must hold no CR or LF) to req into out. req may be a request
 * sip_msg_parse() refused, as long as sip_err_status() said to answer it:
 * fields that do not parse are copied as written. Returns the length of the
 * response, -EINVAL if status or reason is bad or req lacks Via, From, To,
 * Call-ID or CSeq, -ENOSPC if it does not fit in cap octets (nothing usable
 * is then in out). */
int sip_reply_build(const struct sip_msg *req, int status, const char *reason,
                    const struct sip_reply_opts *opt, char *out, size_t cap);

/* The To tag koryod gives its answers to req: 16 hex digits, a hash of the
 * Call-ID, From tag, top Via branch and CSeq with the salt, so that a
 * retransmitted request gets the same tag without any state. out must hold
 * 17 octets (NUL-terminated). */
void sip_reply_to_tag(const struct sip_msg *req, uint64_t salt, char out[17]);
