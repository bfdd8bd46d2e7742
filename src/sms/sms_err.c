#include "sms/sms_err.h"

const char *sms_strerror(int err)
{
	switch (err) {
	case SMS_E_TRUNCATED:
		return "truncated";
	case SMS_E_TRAILING:
		return "trailing octets";
	case SMS_E_TYPE:
		return "unsupported message type";
	case SMS_E_ADDRESS:
		return "bad address";
	case SMS_E_TIME:
		return "bad timestamp";
	case SMS_E_UDL:
		return "bad user data length";
	case SMS_E_UDH:
		return "bad user data header";
	case SMS_E_CHARSET:
		return "character not in alphabet";
	case SMS_E_UTF8:
		return "invalid UTF-8";
	case SMS_E_NOSPC:
		return "output buffer too small";
	case SMS_E_DCS:
		return "data coding not supported";
	case SMS_E_RP:
		return "bad RP message";
	case SMS_E_INVAL:
		return "invalid argument";
	case SMS_E_TOO_LONG:
		return "text too long";
	case SMS_E_FULL:
		return "reassembly table full";
	case SMS_E_CONCAT:
		return "inconsistent segment";
	}
	return err >= 0 ? "success" : "unknown error";
}
