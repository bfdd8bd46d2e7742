#pragma once
/* GSUP: the Osmocom Generic Subscriber Update Protocol, as osmo-msc, osmo-sgsn and
 * osmo-hlr speak it (libosmocore 1.7 gsup.c; GSUP_NOTES.md section 3). A decoded
 * message points into the buffer it came from for its opaque octets: keep the
 * buffer while the message is in use. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gsup_msg_type {
	GSUP_UPDATE_LOCATION_REQ = 0x04,
	GSUP_UPDATE_LOCATION_ERR = 0x05,
	GSUP_UPDATE_LOCATION_RES = 0x06,
	GSUP_SEND_AUTH_INFO_REQ = 0x08,
	GSUP_SEND_AUTH_INFO_ERR = 0x09,
	GSUP_SEND_AUTH_INFO_RES = 0x0a,
	GSUP_AUTH_FAIL_REPORT = 0x0b,
	GSUP_PURGE_MS_REQ = 0x0c,
	GSUP_PURGE_MS_ERR = 0x0d,
	GSUP_PURGE_MS_RES = 0x0e,
	GSUP_INSERT_DATA_REQ = 0x10,
	GSUP_INSERT_DATA_ERR = 0x11,
	GSUP_INSERT_DATA_RES = 0x12,
	GSUP_DELETE_DATA_REQ = 0x14,
	GSUP_DELETE_DATA_ERR = 0x15,
	GSUP_DELETE_DATA_RES = 0x16,
	GSUP_LOCATION_CANCEL_REQ = 0x1c,
	GSUP_LOCATION_CANCEL_ERR = 0x1d,
	GSUP_LOCATION_CANCEL_RES = 0x1e,
	GSUP_PROC_SS_REQ = 0x20,
	GSUP_PROC_SS_ERR = 0x21,
	GSUP_PROC_SS_RES = 0x22,
	GSUP_MO_FORWARD_SM_REQ = 0x24,
	GSUP_MO_FORWARD_SM_ERR = 0x25,
	GSUP_MO_FORWARD_SM_RES = 0x26,
	GSUP_MT_FORWARD_SM_REQ = 0x28,
	GSUP_MT_FORWARD_SM_ERR = 0x29,
	GSUP_MT_FORWARD_SM_RES = 0x2a,
	GSUP_READY_FOR_SM_REQ = 0x2c,
	GSUP_READY_FOR_SM_ERR = 0x2d,
	GSUP_READY_FOR_SM_RES = 0x2e,
	GSUP_CHECK_IMEI_REQ = 0x30,
	GSUP_CHECK_IMEI_ERR = 0x31,
	GSUP_CHECK_IMEI_RES = 0x32,
};

/* The low two bits: 00 request, 01 error, 10 result, 11 other. */
#define GSUP_IS_REQUEST(t) (((t)&3) == 0)
#define GSUP_TO_ERROR(t)   (((t) & ~3) | 1)
#define GSUP_TO_RESULT(t)  (((t) & ~3) | 2)

/* GMM causes (TS 24.008 10.5.5.14) used on GSUP. */
enum gsup_cause {
	GSUP_CAUSE_IMSI_UNKNOWN = 0x02,
	GSUP_CAUSE_ILLEGAL_MS = 0x03,
	GSUP_CAUSE_GPRS_NOT_ALLOWED = 0x07,
	GSUP_CAUSE_GPRS_AND_NON_GPRS_NOT_ALLOWED = 0x08,
	GSUP_CAUSE_PLMN_NOT_ALLOWED = 0x0b,
	GSUP_CAUSE_NET_FAIL = 0x11,
	GSUP_CAUSE_CONGESTION = 0x16,
	GSUP_CAUSE_GSM_NET_FAIL = 0x26, /* what osmo-hlr sends on an ISD timeout */
	GSUP_CAUSE_INV_MAND_INFO = 0x60,
	GSUP_CAUSE_MSGT_NOTEXIST = 0x61,
	GSUP_CAUSE_MSGT_INCOMP_STATE = 0x62,
	GSUP_CAUSE_PROTO_ERR = 0x6f,
};

/* The identity type, first octet of SM-RP-DA and SM-RP-OA (libosmogsm
 * gsup_sms.h; TS 29.002 7.6.8.1/2). IMSI: TBCD without a length octet;
 * MSISDN and SMSC address: a TON/NPI octet, then BCD digits; none: the
 * type octet alone (noSM-RP-DA / noSM-RP-OA). */
enum gsup_sm_rp_id {
	GSUP_SM_RP_ID_IMSI = 0x01,
	GSUP_SM_RP_ID_MSISDN = 0x02,
	GSUP_SM_RP_ID_SMSC = 0x03,
	GSUP_SM_RP_ID_NONE = 0xff,
};

/* SM-Alert-Reason (TS 29.002 7.6.8.8) of a ReadyForSM. */
enum gsup_sm_alert_reason {
	GSUP_SM_ALERT_MS_PRESENT = 1,
	GSUP_SM_ALERT_MEMORY_AVAILABLE = 2,
};

enum gsup_cn_domain { GSUP_CN_DOMAIN_PS = 1, GSUP_CN_DOMAIN_CS = 2 };

/* Message class IE values. */
enum gsup_msg_class {
	GSUP_CLASS_SUBSCRIBER_MGMT = 1,
	GSUP_CLASS_SMS = 2,
	GSUP_CLASS_USSD = 3,
	GSUP_CLASS_INTER_MSC = 4,
};

#define GSUP_MAX_AUTH 5
#define GSUP_MAX_PDP  10

struct gsup_auth_tuple {
	bool has_gsm;  /* RAND, SRES, Kc */
	bool has_umts; /* IK, CK, AUTN, RES */
	uint8_t rand[16];
	uint8_t sres[4];
	uint8_t kc[8];
	uint8_t ik[16];
	uint8_t ck[16];
	uint8_t autn[16];
	uint8_t res[16];
	uint8_t res_len;
};

struct gsup_pdp_info {
	uint8_t context_id;
	bool has_pdp_type;
	uint16_t pdp_type; /* e.g. 0xf121: IETF, IPv4 */
	char apn[101];     /* dotted text ("internet", "*"); encoded as TS 23.003 labels */
	const uint8_t *qos;
	uint8_t qos_len;
};

struct gsup_msg {
	uint8_t type;
	char imsi[16]; /* digits; always present in a decoded message */

	bool has_cause;
	uint8_t cause;

	struct gsup_auth_tuple auth[GSUP_MAX_AUTH];
	unsigned n_auth;

	bool pdp_info_complete;
	struct gsup_pdp_info pdp[GSUP_MAX_PDP];
	unsigned n_pdp;

	bool has_cancel_type;
	uint8_t cancel_type; /* on the wire: 0 update procedure, 1 withdrawn */
	bool freeze_ptmsi;

	char msisdn[17];     /* digits; "" = absent */
	char hlr_number[17]; /* digits; "" = absent */

	bool has_msg_class;
	uint8_t msg_class;

	bool has_rand; /* top-level RAND (with AUTS, for resync) */
	uint8_t rand[16];
	bool has_auts;
	uint8_t auts[14];

	bool has_cn_domain;
	uint8_t cn_domain;
	bool has_current_rat;
	uint8_t current_rat;

	char imei[17]; /* digits; "" = absent */
	bool has_imei_result;
	uint8_t imei_result; /* on the wire: 0 ACK, 1 NACK */

	bool has_num_vectors;
	uint8_t num_vectors;

	bool has_session;
	uint32_t session_id;
	uint8_t session_state;

	/* SMS (TS 29.002 7.6.8): SM-RP-Cause is an RP cause (TS 24.011
	 * 8.2.5.4), SM-RP-MMS non-zero means more messages follow. */
	bool has_sm_rp_mr;
	uint8_t sm_rp_mr;
	bool has_sm_rp_cause;
	uint8_t sm_rp_cause;
	bool has_sm_rp_mms;
	uint8_t sm_rp_mms;
	bool has_sm_alert_reason;
	uint8_t sm_alert_reason;

	/* Opaque IEs, pointing into the decoded buffer (NULL when absent).
	 * SM-RP-DA/OA hold the identity type octet (enum gsup_sm_rp_id) and
	 * the identity; the decoder checks that shape (a known type; an
	 * identity for every type but none), not the identity's digits. */
	const uint8_t *ss_info;
	size_t ss_info_len;
	const uint8_t *sm_rp_da, *sm_rp_oa, *sm_rp_ui;
	size_t sm_rp_da_len, sm_rp_oa_len, sm_rp_ui_len;
	const uint8_t *source_name, *destination_name; /* NUL included, as on the wire */
	size_t source_name_len, destination_name_len;
	const uint8_t *pdp_charging;
	size_t pdp_charging_len;
};

/* Decodes one GSUP message (the payload of an IPA GSUP frame). Unknown IEs are
 * skipped. Returns 0; or a negative errno with *cause set to the GMM cause an
 * error answer should carry: -EBADMSG (cause 0x60: the IMSI is not the first IE,
 * is malformed, or an IE runs past the end or has a bad length). When the IMSI
 * could be read, out->imsi and out->type are filled even on error, so the caller
 * can answer. */
int gsup_decode(const uint8_t *buf, size_t len, struct gsup_msg *out, uint8_t *cause);

/* Encodes m into out. Returns the length, or -EMSGSIZE if it does not fit in cap
 * (callers pass IPA_MAX_FRAME minus the header, so nothing too long is sent), or
 * -EINVAL for a field that cannot be encoded (a non-digit in a number, an APN
 * label over 63 octets). */
int gsup_encode(const struct gsup_msg *m, uint8_t *out, size_t cap);

/* Builds an SM-RP-DA/OA value of type id (IMSI: digits as TBCD; MSISDN and
 * SMSC: the TON/NPI octet ton_npi then the digits as BCD; NONE: no digits)
 * into out (cap octets). Returns the length, or -EINVAL (a non-digit, no
 * digits, more than 20) or -EMSGSIZE. */
int gsup_sm_rp_id_build(uint8_t id, uint8_t ton_npi, const char *digits, uint8_t *out, size_t cap);

/* Initialises a response to req: same IMSI, Message Class, Session ID (with state
 * END for a final response), SM-RP-MR, and Source Name copied to Destination
 * Name (GSUP_NOTES.md 5.6). */
void gsup_make_response(const struct gsup_msg *req, uint8_t type, struct gsup_msg *out);

/* A short name for a message type ("SendAuthInfo-Request"), for logs. */
const char *gsup_type_name(uint8_t type);
