/**
 * The devices of one LoRaWAN integration (ChirpStack, The Things Stack): binds each network
 * server device to a Continuum device of the integration's tenant, turns uplinks into telemetry
 * through the device API (so codecs, limits, quotas, ingest, rules and tenancy apply as for any
 * device), joins and device status into client attributes, and commands into downlinks.
 *
 * Binding: the Continuum device is named after the DevEUI (lowercase hex; an uppercase name is
 * found too) or, with `bindBy: deviceName`, after the server-side name (ChirpStack deviceName,
 * TTS device_id). Only the integration's tenant is searched. A device not found is created in
 * `provisionProfileId` (a profile of that tenant; the device quota applies) or refused.
 *
 * Payload: the device profile's decoder (PayloadDecoders port, called with bytes and fPort)
 * when it has one; otherwise what the network server decoded (`object` / `decoded_payload`);
 * otherwise only the radio metadata (rssi, snr, fCnt, fPort) is stored.
 *
 * Downlinks: the first event of a device after start opens a device session for it (activity
 * based, like HTTP devices), so queued and new commands reach it: the profile's encodeDownlink
 * gets `{method, params}` and returns bytes (and fPort); the downlink is published with an id the
 * server echoes in its acks. The command answers on the gateway's txack (unconfirmed) or the
 * device's ack (confirmed); a nack, a failure or an encoder error answers it with an error.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceIdentity } from '../../domain/device.js';
import { isPlatformError, PlatformError } from '../../domain/errors.js';
import type { Integration } from '../../domain/integrations.js';
import { isAppPort, isPlainObject, type LorawanEvent } from '../../domain/lorawan.js';
import type { JsonValue } from '../../domain/telemetry.js';
import type { Clock, DeviceApi, DeviceSession, IntegrationLink, LorawanSettings, Logger, RpcRequestToDevice } from '../../ports.js';
import type { PayloadDecoders } from '../../ports/payload-decoders.js';

export interface LorawanDeps {
  readonly deviceApi: Pick<DeviceApi, 'publishTelemetry' | 'publishAttributes' | 'openSession' | 'rpcResponse'>;
  readonly decoders: PayloadDecoders;
  /** The tenant's device of that name, undefined when none. */
  findDevice(tenantId: string, name: string): Promise<DeviceIdentity | undefined>;
  /** Creates a device in a profile of the tenant (PROFILE_NOT_FOUND otherwise; the device quota applies). */
  createDevice(tenantId: string, name: string, profileId: string): Promise<DeviceIdentity>;
  /** The profile's decoder source, undefined when it has none. */
  decoderOf(profileId: string): Promise<string | undefined>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Downlinks waiting for their ack/txack; past this the oldest are forgotten (their commands time out). */
const MAX_PENDING_DOWNLINKS = 10_000;
/** A server time further ahead than this is not believed (the point is stored at our time). */
const MAX_CLOCK_AHEAD_MS = 60_000;
/** Devices read per uplink: a LoRaWAN device speaks every few minutes at most, so no identity cache. */
const TRANSPORT = 'http';

interface Bound {
  identity: DeviceIdentity;
  /** Set right after the binding is recorded (opening it may deliver queued commands to the binding at once). */
  session?: DeviceSession;
  devEui: string;
  nsDeviceId: string | undefined;
}

interface PendingDownlink {
  readonly identity: DeviceIdentity;
  readonly requestId: number;
  readonly confirmed: boolean;
}

export class LorawanDevices {
  private readonly bound = new Map<string, Bound>();
  private readonly pending = new Map<string, PendingDownlink>();
  private closed = false;

  constructor(
    private readonly integration: Integration,
    private readonly settings: LorawanSettings,
    private readonly deps: LorawanDeps,
    private readonly link: () => IntegrationLink | undefined,
  ) {}

  /** Resolves once the event is committed (uplink) or applied; rejects with the reason it was refused. */
  async handle(event: LorawanEvent): Promise<void> {
    switch (event.kind) {
      case 'up':
        return this.uplink(event);
      case 'join': {
        const b = await this.bind(event);
        return this.attributes(b.identity, { devEui: event.devEui, ...(event.devAddr !== undefined ? { devAddr: event.devAddr } : {}), lastJoinTs: this.timeOf(event.time) });
      }
      case 'status': {
        const b = await this.bind(event);
        const values: Record<string, JsonValue> = {};
        if (event.margin !== undefined) values.margin = event.margin;
        if (event.batteryLevel !== undefined) values.batteryLevel = event.batteryLevel;
        if (event.externalPower !== undefined) values.externalPowerSource = event.externalPower;
        if (Object.keys(values).length > 0) await this.attributes(b.identity, values);
        return;
      }
      case 'txack': {
        const p = this.pending.get(event.downlinkId);
        // Confirmed downlinks answer on the device's ack, not on the gateway taking it.
        if (!p || p.confirmed) return;
        this.pending.delete(event.downlinkId);
        return this.answer(p, { status: 'sent' });
      }
      case 'ack': {
        const p = this.take(event.downlinkId);
        if (!p) return;
        return this.answer(p, event.acknowledged ? { status: 'acknowledged' } : { error: 'the device did not acknowledge the downlink' });
      }
      case 'failed': {
        const p = this.take(event.downlinkId);
        if (!p) return;
        return this.answer(p, { error: `network server: ${event.reason}` });
      }
    }
  }

  /** The integration stops: its devices' sessions end (commands for them wait QUEUED). */
  close(): void {
    this.closed = true;
    for (const b of this.bound.values()) b.session?.close();
    this.bound.clear();
    this.pending.clear();
  }

  private async uplink(event: Extract<LorawanEvent, { kind: 'up' }>): Promise<void> {
    const b = await this.bind(event);
    const identity = b.identity;
    let data: Record<string, unknown> | undefined;
    const source = this.deps.decoders.enabled && event.bytes ? await this.deps.decoderOf(identity.profileId) : undefined;
    if (source !== undefined && event.bytes) {
      try {
        ({ data } = await this.deps.decoders.decode({ profileId: identity.profileId, source }, { bytes: [...event.bytes], ...(event.fPort !== undefined ? { fPort: event.fPort } : {}) }));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.deps.logger.warn({ integration: this.integration.id, deviceId: identity.deviceId, device: identity.name, profileId: identity.profileId, fPort: event.fPort, reason }, 'lorawan uplink: payload decoder failed');
        throw err instanceof PlatformError ? err : new PlatformError('MALFORMED_PAYLOAD', 'payload decoder failed');
      }
    } else if (event.object) {
      data = event.object;
    }
    const radio: Record<string, JsonValue> = {};
    if (event.radio.rssi !== undefined) radio.rssi = event.radio.rssi;
    if (event.radio.snr !== undefined) radio.snr = event.radio.snr;
    if (event.fCnt !== undefined) radio.fCnt = event.fCnt;
    if (event.fPort !== undefined) radio.fPort = event.fPort;
    const ts = this.timeOf(event.time);
    // The decoder's {ts, values} form keeps its own time; a flat object is the values at the uplink's time.
    const message = data && typeof data.ts === 'number' && isPlainObject(data.values) ? { ...data, values: { ...radio, ...data.values } } : { ts, values: { ...radio, ...(data ?? {}) } };
    if (Object.keys(message.values).length === 0) return;
    await this.deps.deviceApi.publishTelemetry(identity, Buffer.from(JSON.stringify(message)), TRANSPORT, 'application/json');
  }

  private attributes(identity: DeviceIdentity, values: Record<string, JsonValue>): Promise<void> {
    return this.deps.deviceApi.publishAttributes(identity, Buffer.from(JSON.stringify(values)), TRANSPORT, 'application/json');
  }

  private timeOf(time: number | undefined): number {
    const now = this.deps.clock.now();
    return time !== undefined && time <= now + MAX_CLOCK_AHEAD_MS ? time : now;
  }

  /** The Continuum device of a network-server device, with a session for its commands. */
  private async bind(ref: { devEui: string; nsDeviceId?: string }): Promise<Bound> {
    const name = this.settings.bindBy === 'devEui' ? ref.devEui : ref.nsDeviceId;
    if (!name) throw new PlatformError('MALFORMED_PAYLOAD', `the event names no ${this.settings.bindBy === 'devEui' ? 'DevEUI' : 'device name'}`);
    const tenantId = this.integration.tenantId;
    let identity = (await this.deps.findDevice(tenantId, name)) ?? (this.settings.bindBy === 'devEui' ? await this.deps.findDevice(tenantId, name.toUpperCase()) : undefined);
    if (!identity) identity = await this.provision(name);
    let b = this.bound.get(identity.deviceId);
    // Same id, other profile (the device was moved): the new identity decodes from now on.
    if (b && b.identity.profileId !== identity.profileId) b.identity = identity;
    if (!b && !this.closed) {
      const bound: Bound = { identity, devEui: ref.devEui, nsDeviceId: ref.nsDeviceId };
      this.bound.set(identity.deviceId, bound);
      bound.session = this.deps.deviceApi.openSession(identity, TRANSPORT, { onRpcRequest: (r) => this.command(bound, r) }, { persistent: false });
      b = bound;
    }
    if (!b) throw new PlatformError('UNAVAILABLE', 'integration stopped');
    if (ref.devEui) b.devEui = ref.devEui;
    if (ref.nsDeviceId !== undefined) b.nsDeviceId = ref.nsDeviceId;
    b.session?.touch();
    return b;
  }

  private async provision(name: string): Promise<DeviceIdentity> {
    const profileId = this.settings.provisionProfileId;
    if (profileId === undefined) throw new PlatformError('DEVICE_NOT_FOUND', `no device named ${name} in this tenant (set provisionProfileId to create them)`);
    try {
      const identity = await this.deps.createDevice(this.integration.tenantId, name, profileId);
      this.deps.logger.info({ integration: this.integration.id, deviceId: identity.deviceId, device: name, profileId }, 'lorawan device provisioned');
      return identity;
    } catch (err) {
      // Another uplink of the same device created it meanwhile.
      if (isPlatformError(err, 'DEVICE_NAME_TAKEN') || isPlatformError(err, 'CONFLICT')) {
        const again = await this.deps.findDevice(this.integration.tenantId, name);
        if (again) return again;
      }
      throw err;
    }
  }

  /** A command for a bound device: encoded by its profile, published as a downlink (delivery is reported when handed over). */
  private command(b: Bound, r: RpcRequestToDevice): void {
    this.downlink(b, r).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      this.deps.logger.warn({ integration: this.integration.id, deviceId: b.identity.deviceId, requestId: r.id, method: r.method, reason }, 'lorawan downlink not sent');
      void this.answer({ identity: b.identity, requestId: r.id, confirmed: false }, { error: `downlink not sent: ${reason}` });
    });
  }

  private async downlink(b: Bound, r: RpcRequestToDevice): Promise<void> {
    const link = this.link();
    if (!link?.downlink) throw new PlatformError('UNAVAILABLE', 'this integration sends no downlinks (TTS: give the MQTT url)');
    const source = this.deps.decoders.enabled ? await this.deps.decoderOf(b.identity.profileId) : undefined;
    if (source === undefined) throw new PlatformError('BAD_REQUEST', 'the device profile has no decoder with encodeDownlink');
    const encoded = await this.deps.decoders.encode({ profileId: b.identity.profileId, source }, { method: r.method, params: r.params });
    const fPort = encoded.fPort ?? this.settings.fPort;
    if (!isAppPort(fPort)) throw new PlatformError('MALFORMED_PAYLOAD', `encodeDownlink: fPort ${fPort} is not 1..223`);
    const id = randomUUID();
    this.remember(id, { identity: b.identity, requestId: r.id, confirmed: this.settings.confirmed });
    try {
      await link.downlink({ id, devEui: b.devEui, ...(b.nsDeviceId !== undefined ? { nsDeviceId: b.nsDeviceId } : {}), fPort, bytes: Uint8Array.from(encoded.bytes), confirmed: this.settings.confirmed });
    } catch (err) {
      this.pending.delete(id);
      throw err;
    }
  }

  private remember(id: string, p: PendingDownlink): void {
    if (this.pending.size >= MAX_PENDING_DOWNLINKS) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(id, p);
  }

  private take(id: string): PendingDownlink | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private async answer(p: PendingDownlink, response: Record<string, JsonValue>): Promise<void> {
    try {
      await this.deps.deviceApi.rpcResponse(p.identity, p.requestId, Buffer.from(JSON.stringify(response)));
    } catch (err) {
      this.deps.logger.warn({ err, integration: this.integration.id, deviceId: p.identity.deviceId, requestId: p.requestId }, 'lorawan downlink status not recorded');
    }
  }
}
