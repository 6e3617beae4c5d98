/**
 * What the SMS connector needs from a link to the mobile network: send a text, hear texts and
 * delivery reports. Two implementations: an SMPP 3.4 session with an operator's SMSC
 * (./smpp-transport.ts) and a GSM modem on a serial port driven by AT commands
 * (./modem-transport.ts). Transports only move messages; whitelists and patterns live in
 * ./index.ts.
 */
export interface InboundSms {
  /** Sender as "+E.164" when the network gave an international number. */
  readonly from: string;
  readonly to: string;
  readonly text: string;
}

export interface DeliveryReport {
  /** The id `send` resolved with (SMPP message_id, or the modem's message reference). */
  readonly messageId: string;
  readonly delivered: boolean;
  /** Transport's status word: DELIVRD/UNDELIV/… (SMPP) or TP-Status as a number (modem). */
  readonly state: string;
}

export interface TransportEvents {
  sms(message: InboundSms): void;
  report(report: DeliveryReport): void;
  /** Link up or down, with the reason when down (for status and logs). */
  link(up: boolean, reason?: string): void;
}

export interface SmsTransport {
  /** Starts connecting in the background; resolves once the first attempt ended (up or not). */
  start(events: TransportEvents): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once the network accepted the message (submit_sm_resp, +CMGS), with its id. */
  send(to: string, text: string, wantReport: boolean): Promise<{ messageId: string }>;
  readonly connected: boolean;
}
