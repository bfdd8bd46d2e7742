#pragma once
/* SM-RL: the RP messages of TS 24.011 section 7.3, which carry TPDUs
 * between the MS and the SMSC; over IMS they are the body of a SIP MESSAGE
 * with Content-Type application/vnd.3gpp.sms (TS 24.341 section 7.3).
 * Decoding is zero-copy (user_data points into the caller's buffer) and
 * allocation-free; every length is checked. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sms/tpdu.h"

/* RP-MTI (24.011 8.2.2): the low bit says the direction (0: MS to network). */
enum sms_rp_type {
	SMS_RP_DATA_MO = 0,  /* RP-DATA, MS to network: carries SMS-SUBMIT/COMMAND */
	SMS_RP_DATA_MT = 1,  /* RP-DATA, network to MS: SMS-DELIVER/STATUS-REPORT */
	SMS_RP_ACK_MO = 2,   /* RP-ACK, MS to network (may carry DELIVER-REPORT) */
	SMS_RP_ACK_MT = 3,   /* RP-ACK, network to MS (may carry SUBMIT-REPORT) */
	SMS_RP_ERROR_MO = 4, /* RP-ERROR, MS to network */
	SMS_RP_ERROR_MT = 5, /* RP-ERROR, network to MS */
	SMS_RP_SMMA = 6,     /* RP-SMMA, MS to network: memory available again */
};

/* A few RP-Cause values (24.011 8.2.5.4). */
#define SMS_RP_CAUSE_UNASSIGNED_NUMBER        1
#define SMS_RP_CAUSE_CALL_BARRED              10
#define SMS_RP_CAUSE_SM_REJECTED              21
#define SMS_RP_CAUSE_UNIDENTIFIED_SUBSCRIBER  28
#define SMS_RP_CAUSE_UNKNOWN_SUBSCRIBER       30
#define SMS_RP_CAUSE_NETWORK_OUT_OF_ORDER     38
#define SMS_RP_CAUSE_CONGESTION               42
#define SMS_RP_CAUSE_MEMORY_EXCEEDED          22
#define SMS_RP_CAUSE_INVALID_MR               81
#define SMS_RP_CAUSE_SEMANTICALLY_INCORRECT   95
#define SMS_RP_CAUSE_DEST_OUT_OF_ORDER        27
#define SMS_RP_CAUSE_FACILITY_REJECTED        29
#define SMS_RP_CAUSE_TEMP_FAILURE             41
#define SMS_RP_CAUSE_RESOURCES_UNAVAILABLE    47
#define SMS_RP_CAUSE_FACILITY_NOT_IMPLEMENTED 69
#define SMS_RP_CAUSE_INVALID_MANDATORY_INFO   96
#define SMS_RP_CAUSE_MSG_TYPE_INCOMPATIBLE    98
#define SMS_RP_CAUSE_PROTOCOL_ERROR           111

struct sms_rp {
	enum sms_rp_type type;
	uint8_t mr;
	/* RP-DATA only: originator and destination. The SMSC's address is
	 * oa (network to MS) or da (MS to network); the other is empty. */
	struct sms_addr oa, da;
	/* RP-ERROR only: cause (7 bits) and an optional diagnostic octet. */
	uint8_t cause;
	bool has_diagnostic;
	uint8_t diagnostic;
	/* The TPDU: mandatory in RP-DATA, optional in RP-ACK/RP-ERROR. */
	const uint8_t *user_data;
	size_t user_data_len;
};

/* Decodes an RP message. Returns 0, SMS_E_TRUNCATED, SMS_E_TRAILING,
 * SMS_E_TYPE (unknown RP-MTI), SMS_E_ADDRESS, or SMS_E_RP (an address that
 * must be empty is not, a bad cause length, an unknown optional element). */
int sms_rp_decode(const uint8_t *buf, size_t len, struct sms_rp *rp);

/* Encodes rp into out; returns the length, SMS_E_NOSPC, SMS_E_ADDRESS or
 * SMS_E_INVAL (user data missing from RP-DATA or over 255 octets). */
int sms_rp_encode(const struct sms_rp *rp, uint8_t *out, size_t cap);

/* The direction of the TPDU an RP-DATA of this type carries. */
enum sms_dir sms_rp_tpdu_dir(enum sms_rp_type type);
