/**
 * Trivial servers that measure the load generator's own ceiling and the transport libraries'
 * (started with fork; the first IPC message is the port):
 *   mqtt  CONNECT → CONNACK, QoS 1 PUBLISH → PUBACK at once (hand-framed, no JSON, no store)
 *   http  node:http server: reads the body, JSON.parse, 200 (the Node HTTP stack's ceiling)
 *   coap  npm coap server: JSON.parse, 2.04 (the CoAP library's ceiling)
 * It exits when the bench disconnects.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createCoapServer } from 'coap';
import { Framer, publishId, pubackPacket } from './mqtt-wire.js';
import type { SinkReady } from './protocol.js';

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);

function mqttClient(socket: Socket): void {
  socket.setNoDelay(true);
  let out: Buffer[] = [];
  const framer = new Framer({
    puback: () => undefined,
    publish: (data, header, body) => {
      const id = publishId(data, header, body);
      if (id === 0) return;
      const ack = Buffer.allocUnsafe(4);
      pubackPacket(ack, 0, id);
      out.push(ack);
    },
    other: (type) => {
      if (type === 1) out.push(CONNACK);
      else if (type === 12) out.push(PINGRESP);
      else if (type === 14) socket.end();
    },
  });
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    if (out.length > 0) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    out = [];
  });
  socket.on('error', () => undefined);
}

function ready(port: number): void {
  process.send?.({ port } satisfies SinkReady);
}

const mode = process.argv[2] ?? 'mqtt';
if (mode === 'mqtt') {
  const server = createTcpServer(mqttClient);
  server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
} else if (mode === 'http') {
  const server = createHttpServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-length': '0' }).end();
    });
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
} else if (mode === 'coap') {
  const server = createCoapServer((req, res) => {
    JSON.parse(req.payload.toString('utf8'));
    res.code = '2.04';
    res.end();
  });
  server.listen(0, '127.0.0.1', () => ready((server._sock as UdpSocket).address().port));
} else {
  throw new Error(`unknown sink mode ${mode}`);
}
process.on('disconnect', () => process.exit(0));
