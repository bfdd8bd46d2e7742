#pragma once
/* Error codes shared by the SMS codec (gsm7, ucs2, tpdu, rp, segment). Every
 * decoder and encoder returns a length or count >= 0 on success and one of
 * these (all negative) on failure; docs/sms-codec.md says when each occurs. */

enum sms_err {
	SMS_E_TRUNCATED = -1, /* the input ends inside a field */
	SMS_E_TRAILING = -2,  /* octets left over after the last field */
	SMS_E_TYPE = -3,      /* message type not supported in this direction */
	SMS_E_ADDRESS = -4,   /* address length, digit or TOA unusable */
	SMS_E_TIME = -5,      /* a timestamp digit is not BCD */
	SMS_E_UDL = -6,       /* TP-UDL over the limit or beyond the PDU */
	SMS_E_UDH = -7,       /* user data header malformed or longer than UD */
	SMS_E_CHARSET = -8,   /* text has a character the alphabet lacks */
	SMS_E_UTF8 = -9,      /* input text is not valid UTF-8 */
	SMS_E_NOSPC = -10,    /* the caller's output buffer is too small */
	SMS_E_DCS = -11,      /* data coding not decodable as text (compressed) */
	SMS_E_RP = -12,       /* RP message malformed (bad IE, cause, length) */
	SMS_E_INVAL = -13,    /* caller's arguments out of range */
	SMS_E_TOO_LONG = -14, /* text needs more than 255 segments */
	SMS_E_FULL = -15,     /* reassembly table at its message or byte limit */
	SMS_E_CONCAT = -16,   /* segment disagrees with its siblings */
};

/* A short English description of an sms_err value (never NULL). */
const char *sms_strerror(int err);
