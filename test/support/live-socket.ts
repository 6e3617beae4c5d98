/**
 * A client of the live WebSocket (`/api/ws`, subprotocol `continuum.v1`, bearer token in the
 * second subprotocol) for authorization tests: open it, send one subscribe request and read the
 * answer carrying its id (a `result`, or an `error` when the subscriber may not see the device).
 */
import WebSocket from 'ws';

export interface LiveSocket {
  /** Subscribes to a device's telemetry; resolves with the answer to this request id. */
  subscribeTelemetry(id: number, deviceId: string): Promise<Record<string, unknown>>;
  close(): void;
}

export async function openLiveSocket(baseUrl: string, token: string): Promise<LiveSocket> {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/ws`, ['continuum.v1', `bearer.${token}`]);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    subscribeTelemetry: (id, deviceId) =>
      new Promise((resolve) => {
        const onMessage = (data: Buffer): void => {
          const m = JSON.parse(data.toString()) as Record<string, unknown>;
          if (m.id !== id) return;
          ws.off('message', onMessage);
          resolve(m);
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id, subscribe: { type: 'telemetry', deviceId } }));
      }),
    close: () => ws.close(),
  };
}
