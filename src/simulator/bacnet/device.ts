/**
 * A simulated BACnet/IP device (the edge tests' peer and the smart-home M2M twin's heating
 * controller), built on @bacnet-js/client acting as the server side:
 * answers Who-Is with I-Am, ReadProperty / ReadPropertyMultiple from its object table,
 * WriteProperty through a 16-slot priority array (ASHRAE 135 clause 19.2) for commandable
 * objects, and SubscribeCOV with an initial notification and one per change (clause 13.1).
 * Listens on 127.0.0.1 at a free UDP port by default; nothing here is shared with the edge connector's code.
 */
import { createSocket } from 'node:dgram';
import bacnetPackage, { ApplicationTag, ErrorClass, ErrorCode, ObjectType, PropertyIdentifier, Segmentation, type BACNetAddress, type BACNetAppData, type BACNetObjectID } from '@bacnet-js/client';

const Client = bacnetPackage.default;
type Client = InstanceType<typeof Client>;
type Sender = BACNetAddress;

export interface SimObject {
  readonly type: ObjectType;
  readonly instance: number;
  readonly name: string;
  /** Present_Value as an application-tagged value. */
  value: BACNetAppData;
  readonly units?: number;
  /** Commandable: writes go through a priority array; otherwise writes are refused (inputs). */
  readonly commandable?: boolean;
  /** False: SubscribeCOV on this object is refused. */
  readonly cov?: boolean;
  priorities?: (BACNetAppData | null)[];
  relinquishDefault?: BACNetAppData;
}

export interface SimOptions {
  readonly deviceId: number;
  readonly name?: string;
  readonly objects: SimObject[];
  /** False: ReadPropertyMultiple is rejected as an unrecognized service (a B-ASC-only device). */
  readonly readMultiple?: boolean;
}

interface Subscription {
  readonly address: string;
  readonly processId: number;
  readonly objectId: BACNetObjectID;
  readonly expires: number;
}

export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export const real = (value: number): BACNetAppData => ({ type: ApplicationTag.REAL, value });
export const enumerated = (value: number): BACNetAppData => ({ type: ApplicationTag.ENUMERATED, value });
export const unsigned = (value: number): BACNetAppData => ({ type: ApplicationTag.UNSIGNED_INTEGER, value });

export class SimDevice {
  readonly address: string;
  readonly subscriptions: Subscription[] = [];
  readonly writes: { key: string; value: unknown; priority: number }[] = [];
  readonly requests: Record<string, number> = {};
  private readonly objects = new Map<string, SimObject>();

  private constructor(
    private readonly client: Client,
    readonly port: number,
    private readonly options: SimOptions,
  ) {
    this.address = `127.0.0.1:${port}`;
    for (const o of options.objects) {
      if (o.commandable) o.priorities = o.priorities ?? Array<BACNetAppData | null>(16).fill(null);
      if (o.commandable) o.relinquishDefault = o.relinquishDefault ?? o.value;
      this.objects.set(`${o.type}:${o.instance}`, o);
    }
  }

  static async start(options: SimOptions): Promise<SimDevice> {
    const port = await freeUdpPort();
    const client = new Client({ port, interface: '127.0.0.1', broadcastAddress: '127.0.0.1' });
    await new Promise<void>((resolve) => client.once('listening', () => resolve()));
    const device = new SimDevice(client, port, options);
    device.listen();
    return device;
  }

  get(type: ObjectType, instance: number): SimObject | undefined {
    return this.objects.get(`${type}:${instance}`);
  }

  /** A local change (a sensor moved): Present_Value set and COV subscribers told. */
  set(type: ObjectType, instance: number, value: BACNetAppData): void {
    const o = this.get(type, instance);
    if (!o) throw new Error(`no object ${type}:${instance}`);
    o.value = value;
    this.notify(o);
  }

  stop(): void {
    this.client.close();
  }

  private count(service: string): void {
    this.requests[service] = (this.requests[service] ?? 0) + 1;
  }

  private listen(): void {
    const c = this.client;
    c.on('error', () => undefined);
    c.on('whoIs', (content) => {
      this.count('whoIs');
      const { lowLimit, highLimit } = content.payload;
      const id = this.options.deviceId;
      if (lowLimit !== undefined && highLimit !== undefined && (id < lowLimit || id > highLimit)) return;
      // Answered to the asker (unicast), so a test on loopback needs no broadcast.
      if (content.header?.sender) c.iAmResponse(content.header.sender, id, Segmentation.NO_SEGMENTATION, 999);
    });
    c.on('readProperty', (content) => {
      this.count('readProperty');
      const sender = content.header?.sender as Sender;
      const { objectId, property } = content.payload;
      const found = this.read(objectId, property.id, property.index);
      if ('error' in found) c.errorResponse(sender, content.service ?? 12, content.invokeId ?? 0, found.error[0], found.error[1]);
      else c.readPropertyResponse(sender, content.invokeId ?? 0, objectId, property, found.values);
    });
    c.on('readPropertyMultiple', (content) => {
      this.count('readPropertyMultiple');
      const sender = content.header?.sender as Sender;
      if (this.options.readMultiple === false) return c.errorResponse(sender, content.service ?? 14, content.invokeId ?? 0, ErrorClass.SERVICES, ErrorCode.REJECT_UNRECOGNIZED_SERVICE);
      const results = content.payload.properties.map((spec) => ({
        objectId: spec.objectId,
        values: spec.properties.map((p) => {
          const found = this.read(spec.objectId, p.id, p.index);
          return { property: { id: p.id, index: p.index }, value: 'error' in found ? [{ value: { type: 'BacnetError', errorClass: found.error[0], errorCode: found.error[1] } }] : found.values };
        }),
      }));
      c.readPropertyMultipleResponse(sender, content.invokeId ?? 0, results);
    });
    c.on('writeProperty', (content) => {
      this.count('writeProperty');
      const sender = content.header?.sender as Sender;
      const { objectId, value } = content.payload;
      const o = this.get(objectId.type, objectId.instance);
      const deny = (cls: number, code: number): void => c.errorResponse(sender, content.service ?? 15, content.invokeId ?? 0, cls, code);
      if (!o) return deny(ErrorClass.OBJECT, ErrorCode.UNKNOWN_OBJECT);
      if (value.property.id !== PropertyIdentifier.PRESENT_VALUE) return deny(ErrorClass.PROPERTY, ErrorCode.WRITE_ACCESS_DENIED);
      if (!o.commandable || !o.priorities) return deny(ErrorClass.PROPERTY, ErrorCode.WRITE_ACCESS_DENIED);
      const written = value.value[0];
      if (!written) return deny(ErrorClass.PROPERTY, ErrorCode.VALUE_OUT_OF_RANGE);
      if (written.type !== ApplicationTag.NULL && written.type !== o.value.type) return deny(ErrorClass.PROPERTY, ErrorCode.INVALID_DATA_TYPE);
      const priority = value.priority;
      o.priorities[priority - 1] = written.type === ApplicationTag.NULL ? null : { type: written.type, value: written.value };
      // Present_Value is the highest-priority non-NULL slot, else Relinquish_Default (clause 19.2.1.1).
      o.value = o.priorities.find((p) => p !== null) ?? (o.relinquishDefault as BACNetAppData);
      this.writes.push({ key: `${objectId.type}:${objectId.instance}`, value: written.value, priority });
      c.simpleAckResponse(sender, content.service ?? 15, content.invokeId ?? 0);
      this.notify(o);
    });
    c.on('subscribeCov', (content) => {
      this.count('subscribeCov');
      const sender = content.header?.sender as Sender;
      const p = content.payload as typeof content.payload & { cancellationRequest?: boolean };
      const o = this.get(p.monitoredObjectId.type, p.monitoredObjectId.instance);
      if (!o) return c.errorResponse(sender, content.service ?? 5, content.invokeId ?? 0, ErrorClass.OBJECT, ErrorCode.UNKNOWN_OBJECT);
      if (o.cov === false) return c.errorResponse(sender, content.service ?? 5, content.invokeId ?? 0, ErrorClass.SERVICES, ErrorCode.OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED);
      const address = sender.address ?? '';
      const same = (s: Subscription): boolean => s.address === address && s.processId === p.subscriberProcessId && s.objectId.type === o.type && s.objectId.instance === o.instance;
      const index = this.subscriptions.findIndex(same);
      if (index >= 0) this.subscriptions.splice(index, 1);
      if (!p.cancellationRequest) this.subscriptions.push({ address, processId: p.subscriberProcessId, objectId: { type: o.type, instance: o.instance }, expires: Date.now() + p.lifetime * 1000 });
      c.simpleAckResponse(sender, content.service ?? 5, content.invokeId ?? 0);
      if (!p.cancellationRequest) this.notify(o, address);
    });
  }

  private read(objectId: BACNetObjectID, property: number, index: number): { values: BACNetAppData[] } | { error: [number, number] } {
    if (objectId.type === ObjectType.DEVICE) {
      if (objectId.instance !== this.options.deviceId) return { error: [ErrorClass.OBJECT, ErrorCode.UNKNOWN_OBJECT] };
      if (property === PropertyIdentifier.OBJECT_NAME) return { values: [{ type: ApplicationTag.CHARACTER_STRING, value: this.options.name ?? `sim-${this.options.deviceId}` }] };
      if (property === PropertyIdentifier.VENDOR_NAME) return { values: [{ type: ApplicationTag.CHARACTER_STRING, value: 'Continuum test rig' }] };
      if (property === PropertyIdentifier.OBJECT_LIST) {
        const list: BACNetAppData[] = [{ type: ObjectType.DEVICE, instance: this.options.deviceId }, ...this.options.objects.map((o) => ({ type: o.type, instance: o.instance }))].map((id) => ({ type: ApplicationTag.OBJECTIDENTIFIER, value: id }));
        if (index === 0) return { values: [unsigned(list.length)] };
        if (index !== 0xffffffff) return list[index - 1] ? { values: [list[index - 1] as BACNetAppData] } : { error: [ErrorClass.PROPERTY, ErrorCode.INVALID_ARRAY_INDEX] };
        return { values: list };
      }
      return { error: [ErrorClass.PROPERTY, ErrorCode.UNKNOWN_PROPERTY] };
    }
    const o = this.get(objectId.type, objectId.instance);
    if (!o) return { error: [ErrorClass.OBJECT, ErrorCode.UNKNOWN_OBJECT] };
    switch (property) {
      case PropertyIdentifier.PRESENT_VALUE:
        return { values: [o.value] };
      case PropertyIdentifier.OBJECT_NAME:
        return { values: [{ type: ApplicationTag.CHARACTER_STRING, value: o.name }] };
      case PropertyIdentifier.STATUS_FLAGS:
        return { values: [{ type: ApplicationTag.BIT_STRING, value: { bitsUsed: 4, value: [0] } }] };
      case PropertyIdentifier.UNITS:
        return o.units === undefined ? { error: [ErrorClass.PROPERTY, ErrorCode.UNKNOWN_PROPERTY] } : { values: [enumerated(o.units)] };
      default:
        return { error: [ErrorClass.PROPERTY, ErrorCode.UNKNOWN_PROPERTY] };
    }
  }

  /** Unconfirmed COV notifications with Present_Value and Status_Flags (clause 13.1, 13.3). */
  private notify(o: SimObject, only?: string): void {
    const now = Date.now();
    for (const s of this.subscriptions) {
      if (s.objectId.type !== o.type || s.objectId.instance !== o.instance || s.expires < now || (only !== undefined && s.address !== only)) continue;
      this.client.unconfirmedCOVNotification({ address: s.address }, s.processId, this.options.deviceId, s.objectId, Math.round((s.expires - now) / 1000), [
        { property: { id: PropertyIdentifier.PRESENT_VALUE }, value: [o.value] },
        { property: { id: PropertyIdentifier.STATUS_FLAGS }, value: [{ type: ApplicationTag.BIT_STRING, value: { bitsUsed: 4, value: [0] } }] },
      ]);
    }
  }
}
