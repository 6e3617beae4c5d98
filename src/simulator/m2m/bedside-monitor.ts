/**
 * Patient-monitoring M2M twin: bedside monitors that send vitals as binary frames on a serial
 * line (a socat pty in tests and the demo), in this simulator's own proprietary layout — the kind
 * of vendor protocol the edge's frames connector describes declaratively:
 *
 *   AA <len> <bed> <hr:u8 bpm> <spo2:u8 %> <resp:u8 /min> <temp:i16 BE, 0.1 °C> <flags> <crc16-modbus, low byte first>
 *
 * `len` counts the bytes after itself, the CRC included (9); flags bit 0 is the nurse call
 * sounding at the bedside. Commands come back in the same framing (len 4: bed, code, CRC):
 * `AA 04 <bed> 4E <crc>` sounds the nurse call ('N'), `AA 04 <bed> 43 <crc>` cancels it ('C').
 * Bed 1 desaturates a few seconds in (SpO2 falls to the mid 80s, heart rate climbs); once its
 * nurse call sounds, the nurse comes and the patient recovers.
 */
import { SerialPort } from 'serialport';

export const FRAME_START = 0xaa;
export const NURSE_CALL = 0x4e;
export const CANCEL_CALL = 0x43;

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Appends `AA <len>` in front and the CRC behind. */
export function frame(body: readonly number[]): Buffer {
  const head = [FRAME_START, body.length + 2, ...body];
  const crc = crc16(Uint8Array.from(head));
  return Buffer.from([...head, crc & 0xff, crc >> 8]);
}

export interface BedsideOptions {
  readonly path: string;
  readonly baudRate?: number;
  /** Beds on this line, 1…n (default 1), all sending through one concentrator port. */
  readonly beds?: number;
  readonly intervalMs?: number;
  /** Seconds until bed 1's desaturation begins (default 5). */
  readonly episodeStartS?: number;
  readonly log?: { info(obj: object, msg: string): void };
}

export interface BedsideMonitors {
  /** Command frames received (valid CRC), in order. */
  readonly commands: readonly { bed: number; code: number }[];
  nurseCall(bed: number): boolean | undefined;
  /** Frames sent so far. */
  readonly sent: number;
  close(): Promise<void>;
}

interface Bed {
  readonly bed: number;
  spo2: number;
  hr: number;
  nurseCall: boolean;
  /** The nurse has come: bed 1's episode is over. */
  attended: boolean;
}

export async function startBedsideMonitors(options: BedsideOptions): Promise<BedsideMonitors> {
  const port = new SerialPort({ path: options.path, baudRate: options.baudRate ?? 19_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  const beds = new Map<number, Bed>();
  for (let bed = 1; bed <= (options.beds ?? 1); bed++) beds.set(bed, { bed, spo2: 97, hr: 72 + bed * 3, nurseCall: false, attended: false });
  const commands: { bed: number; code: number }[] = [];
  const episodeAt = Date.now() + (options.episodeStartS ?? 5) * 1000;
  let sent = 0;
  let tick = 0;

  const send = (): void => {
    tick++;
    for (const b of beds.values()) {
      if (b.bed === 1 && Date.now() >= episodeAt && !b.attended) {
        b.spo2 = Math.max(84, b.spo2 - 1);
        b.hr = Math.min(125, b.hr + 2);
      } else {
        b.spo2 = Math.min(97, b.spo2 + 1);
        b.hr = Math.max(72 + b.bed * 3, b.hr - 2);
      }
      const resp = 14 + (tick % 3);
      const temp = Math.round((36.8 + 0.1 * Math.sin(tick / 10)) * 10);
      port.write(frame([b.bed, b.hr, b.spo2, resp, (temp >> 8) & 0xff, temp & 0xff, b.nurseCall ? 1 : 0]));
      sent++;
    }
  };
  const timer = setInterval(send, options.intervalMs ?? 1000);

  let buffer = Buffer.alloc(0);
  port.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]).subarray(-256);
    for (;;) {
      const start = buffer.indexOf(FRAME_START);
      if (start < 0) {
        buffer = Buffer.alloc(0);
        return;
      }
      buffer = buffer.subarray(start);
      if (buffer.length < 2) return;
      const total = (buffer[1] ?? 0) + 2;
      if (buffer.length < total) return;
      const f = buffer.subarray(0, total);
      const crc = crc16(f.subarray(0, total - 2));
      if (total === 6 && f[total - 2] === (crc & 0xff) && f[total - 1] === crc >> 8) {
        const bedNo = f[2] ?? 0;
        const code = f[3] ?? 0;
        commands.push({ bed: bedNo, code });
        const b = beds.get(bedNo);
        if (b && code === NURSE_CALL) b.nurseCall = b.attended = true;
        if (b && code === CANCEL_CALL) b.nurseCall = false;
        options.log?.info({ bed: bedNo, command: String.fromCharCode(code) }, 'bedside monitor command frame');
        buffer = buffer.subarray(total);
      } else {
        // Not a command frame of ours (or corrupted): resynchronise on the next start byte.
        buffer = buffer.subarray(1);
      }
    }
  });

  return {
    commands,
    nurseCall: (bed) => beds.get(bed)?.nurseCall,
    get sent() {
      return sent;
    },
    async close() {
      clearInterval(timer);
      await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}
