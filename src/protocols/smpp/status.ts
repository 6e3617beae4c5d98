/**
 * SMPP 3.4 command_status values (§5.1.3) → the platform's error codes, so a refused SMS is
 * reported like any other failure: the caller's fault (bad number, bad text) is BAD_REQUEST, the
 * platform's credentials BAD_CREDENTIALS, throttling QUOTA_EXCEEDED, anything else on the SMSC's
 * side UNAVAILABLE (worth retrying later).
 */
import { PlatformError, type ErrorCode } from '../../domain/errors.js';

const STATUS: Record<number, [name: string, code: ErrorCode]> = {
  0x01: ['ESME_RINVMSGLEN', 'BAD_REQUEST'],
  0x02: ['ESME_RINVCMDLEN', 'BAD_REQUEST'],
  0x03: ['ESME_RINVCMDID', 'BAD_REQUEST'],
  0x04: ['ESME_RINVBNDSTS', 'UNAVAILABLE'],
  0x05: ['ESME_RALYBND', 'UNAVAILABLE'],
  0x06: ['ESME_RINVPRTFLG', 'BAD_REQUEST'],
  0x07: ['ESME_RINVREGDLVFLG', 'BAD_REQUEST'],
  0x08: ['ESME_RSYSERR', 'UNAVAILABLE'],
  0x0a: ['ESME_RINVSRCADR', 'BAD_REQUEST'],
  0x0b: ['ESME_RINVDSTADR', 'BAD_REQUEST'],
  0x0c: ['ESME_RINVMSGID', 'BAD_REQUEST'],
  0x0d: ['ESME_RBINDFAIL', 'BAD_CREDENTIALS'],
  0x0e: ['ESME_RINVPASWD', 'BAD_CREDENTIALS'],
  0x0f: ['ESME_RINVSYSID', 'BAD_CREDENTIALS'],
  0x14: ['ESME_RMSGQFUL', 'QUOTA_EXCEEDED'],
  0x15: ['ESME_RINVSERTYP', 'BAD_REQUEST'],
  0x33: ['ESME_RINVNUMDESTS', 'BAD_REQUEST'],
  0x45: ['ESME_RSUBMITFAIL', 'UNAVAILABLE'],
  0x48: ['ESME_RINVSRCTON', 'BAD_REQUEST'],
  0x49: ['ESME_RINVSRCNPI', 'BAD_REQUEST'],
  0x50: ['ESME_RINVDSTTON', 'BAD_REQUEST'],
  0x51: ['ESME_RINVDSTNPI', 'BAD_REQUEST'],
  0x53: ['ESME_RINVSYSTYP', 'BAD_CREDENTIALS'],
  0x58: ['ESME_RTHROTTLED', 'QUOTA_EXCEEDED'],
  0x61: ['ESME_RINVSCHED', 'BAD_REQUEST'],
  0x62: ['ESME_RINVEXPIRY', 'BAD_REQUEST'],
  0x64: ['ESME_RX_T_APPN', 'UNAVAILABLE'],
  0x65: ['ESME_RX_P_APPN', 'BAD_REQUEST'],
  0x66: ['ESME_RX_R_APPN', 'BAD_REQUEST'],
  0xc0: ['ESME_ROPTPARNOTALLWD', 'BAD_REQUEST'],
  0xc1: ['ESME_RINVPARLEN', 'BAD_REQUEST'],
  0xc2: ['ESME_RMISSINGOPTPARAM', 'BAD_REQUEST'],
  0xc3: ['ESME_RINVOPTPARAMVAL', 'BAD_REQUEST'],
  0xfe: ['ESME_RDELIVERYFAILURE', 'UNAVAILABLE'],
  0xff: ['ESME_RUNKNOWNERR', 'UNAVAILABLE'],
};

export function statusName(status: number): string {
  return STATUS[status]?.[0] ?? `0x${status.toString(16).padStart(8, '0')}`;
}

/** The PlatformError for a non-zero command_status of `operation` (e.g. "submit_sm"). */
export function smppError(status: number, operation: string): PlatformError {
  const code = STATUS[status]?.[1] ?? 'UNAVAILABLE';
  return new PlatformError(code, `SMSC refused ${operation}: ${statusName(status)} (command_status ${status})`);
}
