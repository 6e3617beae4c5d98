#!/usr/bin/env node
// Regenerates web/public/icons/*.png (run from anywhere): `node web/src/pwa/make-icons.mjs`.
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
const out = fileURLToPath(new URL('../../public/icons', import.meta.url));
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
function chunk(type, data) { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]); }
function png(size, maskable) {
  const rows = [];
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - c, dy = y + 0.5 - c, r = Math.hypot(dx, dy) / size;
      const corner = maskable ? 0 : 0.18 * size;
      const inX = Math.max(0, Math.abs(dx) - (c - corner)), inY = Math.max(0, Math.abs(dy) - (c - corner));
      const inside = Math.hypot(inX, inY) <= corner || corner === 0;
      let px = inside ? [11, 87, 208, 255] : [0, 0, 0, 0];
      if (inside && ((r > 0.22 && r < 0.3) || r < 0.08)) px = [255, 255, 255, 255];
      px.forEach((v, i) => (row[1 + x * 4 + i] = v));
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}
writeFileSync(out + '/icon-192.png', png(192, false));
writeFileSync(out + '/icon-512.png', png(512, false));
writeFileSync(out + '/maskable-512.png', png(512, true));
