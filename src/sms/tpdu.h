#pragma once
/* SM-TL: the TPDUs of TS 23.040 section 9.2.2, decoded into struct sms_tpdu
 * and encoded from it. Decoding is zero-copy and allocation-free: the user
 * data and header slices point into the caller's buffer, which must outlive
 * the struct. Every length octet is checked against what is left; a field
 * that runs past the end gives SMS_E_TRUNCATED and nothing is read beyond
 * len. Supported: SMS-DELIVER and SMS-STATUS-REPORT (SC to MS), SMS-SUBMIT
 * and SMS-COMMAND (MS to SC). The two report TPDUs (SMS-DELIVER-REPORT,
 * SMS-SUBMIT-REPORT) are carried opaquely by the RP layer (rp.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Direction decides what TP-MTI means (23.040 section 9.2.3.1). */
enum sms_dir {
	SMS_DIR_MO, /* MS to SC: SUBMIT, COMMAND */
	SMS_DIR_MT, /* SC to MS: DELIVER, STATUS-REPORT */
};

enum sms_tpdu_type {
	SMS_DELIVER,
	SMS_SUBMIT,
	SMS_STATUS_REPORT,
	SMS_COMMAND,
};

/* An address: TP-OA/DA/RA here, RP-OA/DA and the SMSC in rp.h. value is
 * UTF-8: the digits (0-9 * # a b c) with a leading '+' when the type of
 * number is international, or the text of an alphanumeric address. */
#define SMS_ADDR_MAX 48
struct sms_addr {
	uint8_t toa; /* type of address octet: 0x91 international, 0x81 unknown,
	                0xa1 national, 0xd0 alphanumeric */
	char value[SMS_ADDR_MAX];
};

#define SMS_TON(toa)         (((toa) >> 4) & 7)
#define SMS_TON_INTL         1
#define SMS_TON_NATIONAL     2
#define SMS_TON_ALPHANUMERIC 5

/* Sets a->value from text and picks the TOA: '+digits' international
 * (0x91), digits unknown/ISDN (0x81), anything else alphanumeric (0xd0).
 * Set a->toa to 0xa1 afterwards for the national form. Returns 0 or
 * SMS_E_ADDRESS (too long or empty). */
int sms_addr_set(struct sms_addr *a, const char *text);

/* A timestamp (TP-SCTS, TP-DT, absolute TP-VP): the semi-octet fields as
 * numbers, and the zone in quarters of an hour east of UTC (-79..79). */
struct sms_ts {
	uint8_t year, month, day, hour, minute, second; /* year is 0..99 */
	int8_t tz_quarters;
};

enum sms_alphabet {
	SMS_ALPHABET_GSM7 = 0,
	SMS_ALPHABET_8BIT = 1,
	SMS_ALPHABET_UCS2 = 2,
};

/* TP-DCS as TS 23.038 section 4 reads it. Reserved codings are taken as GSM
 * 7-bit, as 23.038 tells a receiver to. */
struct sms_dcs {
	enum sms_alphabet alphabet;
	int msg_class; /* 0..3, or -1 when the DCS gives none */
	bool compressed;
};
void sms_dcs_decode(uint8_t raw, struct sms_dcs *d);
/* The general-group DCS for an alphabet and class (-1: no class). */
uint8_t sms_dcs_make(enum sms_alphabet alphabet, int msg_class);

enum sms_vpf {
	SMS_VP_NONE = 0,
	SMS_VP_ENHANCED = 1,
	SMS_VP_RELATIVE = 2,
	SMS_VP_ABSOLUTE = 3,
};

struct sms_vp {
	enum sms_vpf format;
	uint8_t relative;       /* SMS_VP_RELATIVE: the coded octet */
	struct sms_ts absolute; /* SMS_VP_ABSOLUTE */
	uint8_t enhanced[7];    /* SMS_VP_ENHANCED: as sent (23.040 9.2.3.12.3) */
};

/* Seconds a validity period lasts (relative, or enhanced with a relative
 * or hh:mm:ss form); -1 for none, absolute or an unusable enhanced form. */
long sms_vp_seconds(const struct sms_vp *vp);
/* The relative TP-VP octet for at least the given duration (capped at 63
 * weeks, the longest the octet can say). */
uint8_t sms_vp_relative_from_seconds(long seconds);

/* The user data header's information elements, with the ones koryo acts on
 * decoded (23.040 section 9.2.3.24): concatenation (IEI 0x00, 8-bit
 * reference; 0x08, 16-bit) and application ports (0x04, 8-bit; 0x05, 16-bit).
 * Other elements are kept in ies only. A repeated element: the last wins, as
 * 23.040 says. A concatenation element with seq 0 or seq > total is ignored,
 * as 23.040 says. */
struct sms_udh {
	const uint8_t *ies; /* the elements, after the UDHL octet */
	size_t len;
	bool has_concat, concat16;
	uint16_t ref;
	uint8_t total, seq;
	bool has_ports, ports16;
	uint16_t dst_port, src_port;
};

/* Parses len octets of elements. Returns 0, or SMS_E_UDH if an element runs
 * past the end or a known one has the wrong length. */
int sms_udh_parse(const uint8_t *ies, size_t len, struct sms_udh *u);
/* Writes the elements for u's concat and ports fields (not u->ies) to out.
 * Returns the octet count or SMS_E_NOSPC. */
int sms_udh_build(const struct sms_udh *u, uint8_t *out, size_t cap);

struct sms_tpdu {
	enum sms_tpdu_type type;
	uint8_t first_octet; /* as decoded; encode rebuilds it from the flags */
	/* Flags of the first octet; which apply depends on the type. */
	bool reject_duplicates; /* SUBMIT TP-RD */
	bool more_messages;     /* DELIVER, STATUS-REPORT: !TP-MMS */
	bool loop_prevention;   /* DELIVER, STATUS-REPORT TP-LP */
	bool status_report;     /* SUBMIT, COMMAND TP-SRR; DELIVER TP-SRI;
	                           STATUS-REPORT TP-SRQ */
	bool udhi;              /* TP-UDHI */
	bool reply_path;        /* SUBMIT, DELIVER TP-RP */
	uint8_t mr;             /* SUBMIT, STATUS-REPORT, COMMAND */
	struct sms_addr addr;   /* OA (DELIVER), DA (SUBMIT, COMMAND), RA */
	uint8_t pid;
	uint8_t dcs; /* the octet; decoded in dcs_info */
	struct sms_dcs dcs_info;
	struct sms_ts scts; /* DELIVER, STATUS-REPORT */
	struct sms_vp vp;   /* SUBMIT */
	struct sms_ts dt;   /* STATUS-REPORT discharge time */
	uint8_t st;         /* STATUS-REPORT TP-ST */
	uint8_t pi;         /* STATUS-REPORT TP-PI (0: PID, DCS, UD absent) */
	uint8_t ct, mn;     /* COMMAND type and message number */

	/* User data (command data for COMMAND). Decoded: ud/ud_len is all of
	 * it, header included, udl the TP-UDL (septets for GSM 7-bit),
	 * udh the header, text_septets the characters after a GSM 7-bit
	 * header, and payload/payload_len the octets after the header of
	 * 8-bit and UCS-2 data (or the command data). */
	uint8_t udl;
	const uint8_t *ud;
	size_t ud_len;
	struct sms_udh udh;
	size_t text_septets;
	const uint8_t *payload;
	size_t payload_len;

	/* Encode input: udh.ies/len written after a UDHL octet when udhi;
	 * data/data_len the septets (GSM 7-bit, values 0..127) or octets
	 * after it. */
	const uint8_t *data;
	size_t data_len;
};

/* Decodes a TPDU of len octets sent in direction dir. Returns 0 or an
 * sms_err: SMS_E_TRUNCATED, SMS_E_TRAILING, SMS_E_TYPE, SMS_E_ADDRESS,
 * SMS_E_TIME, SMS_E_UDL (over 160 septets/140 octets, or more than the PDU
 * holds), SMS_E_UDH (header longer than the user data, or malformed). */
int sms_tpdu_decode(const uint8_t *buf, size_t len, enum sms_dir dir, struct sms_tpdu *t);

/* Encodes t (type, flags, fields, udh, data) into out. Returns the length
 * or SMS_E_NOSPC, SMS_E_ADDRESS, SMS_E_UDL (too much user data),
 * SMS_E_INVAL (a field out of range). */
int sms_tpdu_encode(const struct sms_tpdu *t, uint8_t *out, size_t cap);

/* The decoded GSM 7-bit characters of t (after the header), unpacked into
 * sept. Returns the count, or SMS_E_DCS if t is not GSM 7-bit, or
 * SMS_E_NOSPC. */
int sms_tpdu_septets(const struct sms_tpdu *t, uint8_t *sept, size_t cap);

/* The text of t as NUL-terminated UTF-8 (GSM 7-bit or UCS-2 data). Returns
 * the length, SMS_E_DCS (8-bit or compressed data), or SMS_E_NOSPC. */
int sms_tpdu_text(const struct sms_tpdu *t, char *out, size_t cap);

/* Reads/writes an address in the TP form (length in digits, TOA, semi-
 * octets) at buf; returns the octets used or an sms_err. */
int sms_tp_addr_decode(const uint8_t *buf, size_t len, struct sms_addr *a);
int sms_tp_addr_encode(const struct sms_addr *a, uint8_t *out, size_t cap);
/* The same in the RP/SMSC form (length in octets, 0 for none). */
int sms_rp_addr_decode(const uint8_t *buf, size_t len, struct sms_addr *a);
int sms_rp_addr_encode(const struct sms_addr *a, uint8_t *out, size_t cap);
