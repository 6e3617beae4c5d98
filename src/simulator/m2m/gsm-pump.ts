/**
 * Smart-farm M2M twin: a GSM pump controller in the field — a relay for the irrigation pump, a
 * soil-moisture probe and a SIM. It obeys `PUMP ON` / `PUMP OFF` only from whitelisted numbers
 * (the farm's gateway; anyone else is ignored, as such controllers do, so a stranger who learns
 * the SIM's number cannot flood the field), answers every accepted command and `STATUS` with its
 * status text, and sends the same status every interval: `SOIL m PUMP ON|OFF` (moisture in %).
 * The soil dries while the pump is off and wets while it runs, so a platform rule irrigating a
 * dry field switches the relay within seconds of the start.
 */
import type { SmscSimulator, Subscriber } from '../sms/smsc.js';

export interface GsmPumpOptions {
  /** The controller's SIM. */
  readonly number: string;
  /** Where the periodic status goes (the gateway's number). */
  readonly to: string;
  /** Numbers whose commands it obeys. */
  readonly whitelist: readonly string[];
  /** Soil moisture at start, % (default 31: dry after a report or two). */
  readonly startMoisture?: number;
  readonly intervalMs?: number;
}

export interface GsmPump {
  readonly subscriber: Subscriber;
  /** The relay: true = the pump runs. */
  readonly on: boolean;
  readonly moisture: number;
  /** Commands it obeyed, in order (the sender and the text). */
  readonly obeyed: readonly { readonly from: string; readonly text: string }[];
  /** Texts it ignored: a sender not on the whitelist, or no command it knows. */
  readonly ignored: readonly { readonly from: string; readonly text: string }[];
  close(): void;
}

export function startGsmPump(smsc: SmscSimulator, options: GsmPumpOptions): GsmPump {
  let on = false;
  let moisture = options.startMoisture ?? 31;
  const obeyed: { from: string; text: string }[] = [];
  const ignored: { from: string; text: string }[] = [];
  const status = (): string => `SOIL ${Math.round(moisture)} PUMP ${on ? 'ON' : 'OFF'}`;
  const subscriber = smsc.handset(options.number, (text, from, self) => {
    const m = /^\s*(?:PUMP\s+(ON|OFF)|STATUS)\s*$/i.exec(text);
    if (!m || !options.whitelist.includes(from)) {
      ignored.push({ from, text });
      return;
    }
    obeyed.push({ from, text });
    if (m[1]) on = m[1].toUpperCase() === 'ON';
    self.send(from, status());
  });
  const tick = (): void => {
    // A few points per report, so the demo shows a full dry → irrigate → wet cycle in a minute.
    moisture = Math.min(60, Math.max(5, moisture + (on ? 4 : -1.5)));
    subscriber.send(options.to, status());
  };
  subscriber.send(options.to, status());
  const timer = setInterval(tick, options.intervalMs ?? 2000);
  timer.unref();
  return {
    subscriber,
    get on() {
      return on;
    },
    get moisture() {
      return moisture;
    },
    obeyed,
    ignored,
    close() {
      clearInterval(timer);
      subscriber.close();
    },
  };
}
