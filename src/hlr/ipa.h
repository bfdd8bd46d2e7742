#pragma once
/* The IPA multiplex as Osmocom speaks it over TCP (GSUP_NOTES.md sections 1-2):
 * framing, and the CCM identity exchange and keep-alive. No I/O here. */

#include <stddef.h>
#include <stdint.h>

/* Largest frame a libosmocore reader accepts, the 3-octet header included. */
#define IPA_MAX_FRAME  1200
#define IPA_HEADER_LEN 3

enum ipa_proto {
	IPA_PROTO_CCM = 0xfe,  /* IPA connection management */
	IPA_PROTO_OSMO = 0xee, /* Osmocom extensions: next octet says which */
};

enum ipa_osmo_ext {
	IPA_EXT_GSUP = 0x05,
	IPA_EXT_OAP = 0x06,
};

enum ipa_ccm_type {
	IPA_CCM_PING = 0x00,
	IPA_CCM_PONG = 0x01,
	IPA_CCM_ID_GET = 0x04,
	IPA_CCM_ID_RESP = 0x05,
	IPA_CCM_ID_ACK = 0x06,
	IPA_CCM_ID_NACK = 0x07,
};

/* CCM identity tags (ipaccess.h). */
enum ipa_id_tag {
	IPA_ID_SERNR = 0x00,
	IPA_ID_UNITNAME = 0x01,
	IPA_ID_LOCATION1 = 0x02,
	IPA_ID_LOCATION2 = 0x03,
	IPA_ID_EQUIPVERS = 0x04,
	IPA_ID_SWVERSION = 0x05,
	IPA_ID_MACADDR = 0x07,
	IPA_ID_UNIT = 0x08,
};

/* One frame found in a receive buffer. */
struct ipa_frame {
	uint8_t proto;          /* enum ipa_proto, or anything else the peer sent */
	uint8_t ext;            /* for IPA_PROTO_OSMO: enum ipa_osmo_ext; else 0 */
	const uint8_t *payload; /* after the header (and after the ext octet for OSMO) */
	size_t payload_len;
	size_t frame_len; /* octets the whole frame takes in the buffer */
};

/* Looks for one whole frame at the start of buf. Returns 1 with *f filled, 0 if
 * more octets are needed, or -EBADMSG for a frame that is too long (over
 * IPA_MAX_FRAME), an OSMO frame without its extension octet, or an empty frame:
 * the connection cannot be resynchronised and should be closed. */
int ipa_frame_parse(const uint8_t *buf, size_t len, struct ipa_frame *f);

/* Writes the 3-octet header (plus the ext octet for IPA_PROTO_OSMO) for a payload
 * of payload_len octets into out. Returns the header length (3 or 4), or -EMSGSIZE
 * if the frame would exceed IPA_MAX_FRAME. */
int ipa_header_write(uint8_t *out, uint8_t proto, uint8_t ext, size_t payload_len);

/* Builds a whole CCM frame of one octet (PING, PONG, ID_ACK) into out (>= 4
 * octets). Returns its length. */
size_t ipa_ccm_simple(uint8_t *out, enum ipa_ccm_type type);

/* Builds the ID_GET frame osmo-hlr sends on accept (asking for unit id, MAC,
 * locations, versions, unit name and serial number) into out (>= 32 octets).
 * Returns its length. */
size_t ipa_ccm_id_get(uint8_t *out);

/* What an ID_RESP said. Strings are NUL-terminated copies, truncated to fit. */
struct ipa_id_resp {
	char unit_id[64];
	char unit_name[64];
	char serno[64]; /* the peer's IPA name (GSUP routes by it) */
	unsigned has_unit_id : 1, has_serno : 1;
};

/* Parses an ID_RESP payload (starting with the type octet 0x05). Returns 0, or
 * -EBADMSG for a malformed list (a length running past the end, a zero length). */
int ipa_ccm_id_resp_parse(const uint8_t *payload, size_t len, struct ipa_id_resp *out);

/* Builds an ID_RESP frame with the given unit name and serial number (for test
 * clients and simulators). Returns its length, or -EMSGSIZE. */
int ipa_ccm_id_resp_build(uint8_t *out, size_t cap, const char *unit_name, const char *serno);
