/**
 * BACnet/IP connector (@bacnet-js/client on our UDP transport). Per configured device:
 * - discovery: Who-Is limited to the device's instance (clause 16.10), sent to its address when
 *   configured, else broadcast; the I-Am answer binds the device to the address it came from
 *   (clause 16.10.2 / 16.1). No answer: retried with backoff, the device stays offline.
 * - polling: ReadPropertyMultiple (clause 15.7) of every configured property; a device that
 *   rejects the service is read with ReadProperty (clause 15.5) from then on.
 * - COV: SubscribeCOV with unconfirmed notifications and a lifetime (clause 13.14), renewed at
 *   half the lifetime; notifications (clause 13.1: Present_Value and Status_Flags) become
 *   readings at once. Objects whose subscription the device refuses are polled instead.
 * - commands: WriteProperty (clause 15.9) with an optional priority (clause 19.2).
 * A device that stops answering three polls running is rediscovered (it may have a new address).
 */
import { configuredCommand, connectorStatus, reportDeviceStatus } from '../common.js';
import { ApplicationTag, type BACNetAppData, type BACNetObjectID, type BACNetReadAccessSpecification } from '@bacnet-js/client';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Connector, ConnectorStatus, EdgeLogger, ReadingSink } from '../../ports.js';
import { BacnetValueError, decodeValue, describeError, encodeValue, isUnsupportedService, OBJECT_TYPES, PROPERTIES, type PropertyName } from './objects.js';
import type { BacnetCommandConfig, BacnetConfig, BacnetDeviceConfig, BacnetObjectConfig } from './schema.js';
import { openClient, type BACnetClientInstance, type UdpTransport } from './transport.js';

/** BACNET_ARRAY_ALL: no array index in the request (clause 15.5.1.1.3). */
const ARRAY_ALL = 0xffffffff;
/** Object specifications per ReadPropertyMultiple, so an answer fits a 1476-octet APDU unsegmented. */
const RPM_CHUNK = 16;
const FAILED_POLLS_BEFORE_REDISCOVERY = 3;

interface Subscription {
  readonly processId: number;
  readonly objectId: BACNetObjectID;
  readonly objects: readonly BacnetObjectConfig[];
  active: boolean;
}

interface DeviceRuntime {
  readonly config: BacnetDeviceConfig;
  address: string | undefined;
  rpm: boolean;
  failedPolls: number;
  attempt: number;
  lastTs: number;
  /** Whether the device answered its last poll; unknown before the first (reportDeviceStatus). */
  online?: boolean;
  subscriptions: Subscription[];
  pollTimer?: NodeJS.Timeout;
  discoverTimer?: NodeJS.Timeout;
  covTimer?: NodeJS.Timeout;
}

const objectKey = (o: { type: number; instance: number }): string => `${o.type}:${o.instance}`;
const objectIdOf = (o: { type: keyof typeof OBJECT_TYPES; instance: number }): BACNetObjectID => ({ type: OBJECT_TYPES[o.type], instance: o.instance });

export class BacnetConnector implements Connector {
  readonly name: string;
  readonly devices: readonly string[];
  private client: BACnetClientInstance | undefined;
  private transport: UdpTransport | undefined;
  private sink: ReadingSink | undefined;
  private stopped = true;
  private readonly runtimes = new Map<string, DeviceRuntime>();
  private readonly byProcessId = new Map<number, { rt: DeviceRuntime; sub: Subscription }>();
  private counters = { errors: 0, polls: 0, covNotifications: 0 };
  private lastError: string | undefined;
  private lastPollMs: number | undefined;

  constructor(
    private readonly config: BacnetConfig,
    private readonly logger: EdgeLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.devices = config.devices.map((d) => d.name);
    let processId = 1;
    for (const d of config.devices) {
      const rt: DeviceRuntime = { config: d, address: undefined, rpm: true, failedPolls: 0, attempt: 0, lastTs: 0, subscriptions: [] };
      const groups = new Map<string, BacnetObjectConfig[]>();
      for (const o of d.objects.filter((x) => x.cov && (x.property === 'present-value' || x.property === 'status-flags'))) {
        const key = objectKey(objectIdOf(o));
        groups.set(key, [...(groups.get(key) ?? []), o]);
      }
      for (const objects of groups.values()) {
        const sub: Subscription = { processId: processId++, objectId: objectIdOf(objects[0] as BacnetObjectConfig), objects, active: false };
        rt.subscriptions.push(sub);
        this.byProcessId.set(sub.processId, { rt, sub });
      }
      this.runtimes.set(d.name, rt);
    }
  }

  /** The local UDP port in use (useful with port 0). */
  get localPort(): number {
    return this.transport?.port ?? 0;
  }

  async start(sink: ReadingSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    const { client, transport } = await openClient(this.config);
    this.client = client;
    this.transport = transport;
    client.on('error', (err) => this.noteError(err, {}));
    client.on('iAm', (content) => this.onIAm(content.payload.deviceId, content.header?.sender.address));
    client.on('covNotifyUnconfirmed', (content) => this.onCov(content.payload));
    client.on('covNotify', (content) => {
      // Confirmed notifications (clause 13.1.2) are acknowledged even though we ask for unconfirmed ones.
      if (content.header?.sender && content.invokeId !== undefined) client.simpleAckResponse(content.header.sender, content.service ?? 1, content.invokeId);
      this.onCov(content.payload);
    });
    this.logger.info({ connector: this.name, port: transport.port }, 'bacnet listening');
    for (const rt of this.runtimes.values()) this.discover(rt);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const cancels: Promise<unknown>[] = [];
    for (const rt of this.runtimes.values()) {
      clearTimeout(rt.pollTimer);
      clearTimeout(rt.discoverTimer);
      clearTimeout(rt.covTimer);
      // Cancel our subscriptions (clause 13.14.1.2: lifetime and confirmation omitted), so the device stops sending.
      const address = rt.address;
      if (address && this.client) for (const sub of rt.subscriptions.filter((s) => s.active)) cancels.push(this.client.subscribeCov({ address }, sub.objectId, sub.processId, true, false, 0).catch(() => undefined));
    }
    await Promise.race([Promise.all(cancels), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.client?.close();
    this.client = undefined;
  }

  status(): ConnectorStatus & { covNotifications: number } {
    const all = [...this.runtimes.values()];
    const connected = this.client !== undefined && all.every((rt) => rt.address !== undefined);
    return { ...connectorStatus(this.name, connected, this.counters, this.lastError, this.lastPollMs), covNotifications: this.counters.covNotifications };
  }

  async handleCommand(device: string, method: string, params: JsonValue): Promise<JsonValue> {
    const { rt, command } = configuredCommand(this.runtimes, device, method);
    const value = commandValue(command, params);
    let data: BACNetAppData;
    try {
      data = encodeValue(value, command.object, command.property);
    } catch (err) {
      if (err instanceof BacnetValueError) throw new Error(`${method}: ${err.message}`);
      throw err;
    }
    const client = this.client;
    if (!client || !rt.address) throw new Error(`${this.name}: device ${rt.config.deviceId} has not answered who-is`);
    const objectId = objectIdOf({ type: command.object, instance: command.instance });
    try {
      await client.writeProperty({ address: rt.address }, objectId, PROPERTIES[command.property], [data], command.priority !== undefined ? { priority: command.priority } : {});
    } catch (err) {
      this.noteError(err, { device, method });
      throw new Error(`${method}: ${describeError(err, this.config.apduTimeoutMs)}`);
    }
    this.logger.info({ connector: this.name, device, method, object: `${command.object}:${command.instance}`, property: command.property, priority: command.priority, value }, 'bacnet write');
    return { ok: true, method, object: `${command.object}:${command.instance}`, property: command.property, value: value as JsonValue };
  }

  // --- discovery -------------------------------------------------------------------------

  private discover(rt: DeviceRuntime): void {
    if (this.stopped || !this.client) return;
    const id = rt.config.deviceId;
    // Who-Is with both limits set to the instance asks exactly that device (clause 16.10.1.1).
    if (rt.config.address) this.client.whoIs({ address: rt.config.address }, { lowLimit: id, highLimit: id });
    else this.client.whoIs({ lowLimit: id, highLimit: id });
    const delay = Math.min(this.config.rediscoverMaxMs, this.config.rediscoverMs * 2 ** rt.attempt);
    if (rt.attempt === 1) {
      this.logger.warn({ connector: this.name, device: rt.config.name, deviceId: id, address: rt.config.address ?? this.config.broadcastAddress }, 'bacnet device does not answer who-is');
      this.report(rt, false, 'does not answer who-is');
    }
    rt.attempt++;
    rt.discoverTimer = setTimeout(() => this.discover(rt), delay);
  }

  private onIAm(deviceId: number, address: string | undefined): void {
    if (!address) return;
    for (const rt of this.runtimes.values()) {
      if (rt.config.deviceId !== deviceId || this.stopped) continue;
      clearTimeout(rt.discoverTimer);
      const moved = rt.address !== undefined && rt.address !== address;
      if (rt.address === address) return;
      rt.address = address;
      rt.attempt = 0;
      rt.failedPolls = 0;
      this.logger.info({ connector: this.name, device: rt.config.name, deviceId, address, moved }, 'bacnet device bound');
      this.report(rt, true);
      clearTimeout(rt.pollTimer);
      clearTimeout(rt.covTimer);
      void this.subscribeAll(rt).finally(() => this.schedulePoll(rt, 0));
    }
  }

  private unbind(rt: DeviceRuntime, reason: string): void {
    this.logger.warn({ connector: this.name, device: rt.config.name, address: rt.address, reason }, 'bacnet device lost; rediscovering');
    rt.address = undefined;
    this.report(rt, false, reason);
    for (const sub of rt.subscriptions) sub.active = false;
    clearTimeout(rt.pollTimer);
    clearTimeout(rt.covTimer);
    this.discover(rt);
  }

  /** The device answers (I-Am, a poll, a COV notification) or does not: the child's `online` on the platform. */
  private report(rt: DeviceRuntime, online: boolean, reason?: string): void {
    if (!this.stopped) reportDeviceStatus(rt, { connector: this.name, device: rt.config.name, sink: this.sink, logger: this.logger }, online, reason);
  }

  // --- COV -------------------------------------------------------------------------------

  private async subscribeAll(rt: DeviceRuntime): Promise<void> {
    if (rt.subscriptions.length === 0) return;
    for (const sub of rt.subscriptions) {
      const address = rt.address;
      if (!address || !this.client || this.stopped) return;
      try {
        await this.client.subscribeCov({ address }, sub.objectId, sub.processId, false, false, rt.config.covLifetimeS);
        if (!sub.active) this.logger.info({ connector: this.name, device: rt.config.name, object: objectKey(sub.objectId), lifetimeS: rt.config.covLifetimeS }, 'bacnet COV subscribed');
        sub.active = true;
      } catch (err) {
        // Not every object or device supports COV (DS-COV-B is optional, Annex K): poll it instead.
        if (sub.active || !isUnsupportedService(err)) this.noteError(err, { device: rt.config.name, object: objectKey(sub.objectId), service: 'subscribeCOV' });
        else this.logger.info({ connector: this.name, device: rt.config.name, object: objectKey(sub.objectId), reason: describeError(err, this.config.apduTimeoutMs) }, 'bacnet COV refused; polling instead');
        sub.active = false;
      }
    }
    // Renew at half the lifetime, so one lost renewal still leaves time before the device drops us (clause 13.14.1.1).
    rt.covTimer = setTimeout(() => void this.subscribeAll(rt), (rt.config.covLifetimeS * 1000) / 2);
  }

  private onCov(payload: { subscriberProcessId: number; initiatingDeviceId: number | BACNetObjectID; monitoredObjectId: BACNetObjectID; values: { property: { id: number }; value: BACNetAppData[] }[] }): void {
    const entry = this.byProcessId.get(payload.subscriberProcessId);
    // The Initiating Device Identifier is the device's object identifier (clause 13.1.1.2); the library's typing says number, its decoder gives the object id.
    const deviceId = typeof payload.initiatingDeviceId === 'number' ? payload.initiatingDeviceId : payload.initiatingDeviceId.instance;
    // Only notifications for our subscription from the device we subscribed to (clause 13.1.1 parameters).
    if (!entry || entry.rt.config.deviceId !== deviceId || objectKey(payload.monitoredObjectId) !== objectKey(entry.sub.objectId)) {
      this.logger.debug({ connector: this.name, processId: payload.subscriberProcessId, deviceId }, 'bacnet COV notification ignored');
      return;
    }
    this.counters.covNotifications++;
    this.report(entry.rt, true);
    const values: Record<string, JsonValue> = {};
    for (const o of entry.sub.objects) {
      const found = payload.values.find((v) => v.property.id === PROPERTIES[o.property]);
      if (found) values[o.key] = decodeValue(found.value, o.type, o.property);
    }
    this.emit(entry.rt, values);
  }

  // --- polling ---------------------------------------------------------------------------

  private schedulePoll(rt: DeviceRuntime, delay: number): void {
    if (this.stopped || !rt.address) return;
    rt.pollTimer = setTimeout(() => {
      const due = this.now() + rt.config.pollMs;
      void this.poll(rt).finally(() => this.schedulePoll(rt, Math.max(0, due - this.now())));
    }, delay);
  }

  /** Objects not served by an active COV subscription. */
  private polled(rt: DeviceRuntime): BacnetObjectConfig[] {
    const covered = new Set(rt.subscriptions.filter((s) => s.active).flatMap((s) => s.objects));
    return rt.config.objects.filter((o) => !covered.has(o));
  }

  private async poll(rt: DeviceRuntime): Promise<void> {
    const objects = this.polled(rt);
    const address = rt.address;
    if (objects.length === 0 || !address || !this.client) return;
    const started = this.now();
    const values: Record<string, JsonValue> = {};
    let answered = false;
    if (rt.rpm) {
      try {
        for (let i = 0; i < objects.length; i += RPM_CHUNK) Object.assign(values, await this.readMultiple(rt, address, objects.slice(i, i + RPM_CHUNK)));
        answered = true;
      } catch (err) {
        if (isUnsupportedService(err)) {
          rt.rpm = false;
          this.logger.info({ connector: this.name, device: rt.config.name }, 'bacnet device refuses ReadPropertyMultiple; using ReadProperty');
        } else this.noteError(err, { device: rt.config.name, service: 'readPropertyMultiple' });
      }
    }
    if (!rt.rpm) {
      for (const o of objects) {
        try {
          const ack = await this.client.readProperty({ address }, objectIdOf(o), PROPERTIES[o.property]);
          values[o.key] = decodeValue(ack.values, o.type, o.property);
          answered = true;
        } catch (err) {
          if (describeError(err, 0).startsWith('no answer')) this.noteError(err, { device: rt.config.name, key: o.key });
          else {
            answered = true;
            this.noteError(err, { device: rt.config.name, key: o.key, object: `${o.type}:${o.instance}` });
          }
        }
      }
    }
    this.counters.polls++;
    this.lastPollMs = this.now() - started;
    rt.failedPolls = answered ? 0 : rt.failedPolls + 1;
    // An error response is an answer (the device is there); only silence takes it offline.
    this.report(rt, answered, answered ? undefined : this.lastError);
    if (rt.failedPolls >= FAILED_POLLS_BEFORE_REDISCOVERY && !this.stopped) this.unbind(rt, `${rt.failedPolls} polls unanswered`);
    this.emit(rt, values);
  }

  private async readMultiple(rt: DeviceRuntime, address: string, objects: BacnetObjectConfig[]): Promise<Record<string, JsonValue>> {
    const specs = new Map<string, BACNetReadAccessSpecification>();
    for (const o of objects) {
      const id = objectIdOf(o);
      const spec = specs.get(objectKey(id)) ?? { objectId: id, properties: [] };
      if (!spec.properties.some((p) => p.id === PROPERTIES[o.property])) spec.properties.push({ id: PROPERTIES[o.property], index: ARRAY_ALL });
      specs.set(objectKey(id), spec);
    }
    const ack = await (this.client as BACnetClientInstance).readPropertyMultiple({ address }, [...specs.values()]);
    const values: Record<string, JsonValue> = {};
    for (const result of ack.values) {
      for (const entry of result.values) {
        const matching = objects.filter((o) => objectKey(objectIdOf(o)) === objectKey(result.objectId) && PROPERTIES[o.property] === entry.id);
        const first = entry.value[0] as { type: number; value: unknown } | undefined;
        if (first && first.type === ApplicationTag.ERROR /* a per-property error (clause 15.7.1.3.1) */) {
          const e = first.value as { errorClass: number; errorCode: number };
          for (const o of matching) this.noteError(new Error(`BacnetError - Class:${e.errorClass} - Code:${e.errorCode}`), { device: rt.config.name, key: o.key, object: `${o.type}:${o.instance}` });
          continue;
        }
        for (const o of matching) values[o.key] = decodeValue(entry.value, o.type, o.property as PropertyName);
      }
    }
    return values;
  }

  private emit(rt: DeviceRuntime, values: Record<string, JsonValue>): void {
    if (Object.keys(values).length === 0 || this.stopped) return;
    const ts = Math.max(this.now(), rt.lastTs + 1);
    rt.lastTs = ts;
    this.sink?.reading({ device: rt.config.name, ts, values });
  }

  private noteError(err: unknown, context: object): void {
    this.counters.errors++;
    const text = describeError(err, this.config.apduTimeoutMs);
    if (text !== this.lastError) this.logger.warn({ connector: this.name, ...context, err: text }, 'bacnet request failed');
    this.lastError = text;
  }
}

/** The value a command writes: fixed in config, or params.value, or params itself when scalar. */
function commandValue(command: BacnetCommandConfig, params: JsonValue): unknown {
  if (command.value !== undefined) return command.value;
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    if (Object.hasOwn(params, 'value')) return params.value;
    throw new Error(`${command.method}: params need "value"`);
  }
  return params;
}

