/**
 * The Alexa Smart Home skill endpoint (issue 18 item 8): answers Alexa Smart Home API v3
 * directives for the devices of the account that linked (the directive's bearer token is a
 * Continuum API key or sign-in token, checked by the auth service like any API request, with the
 * same permissions and customer scope). Every failure is an Alexa.ErrorResponse, never a throw:
 * Alexa reads only the event it gets back.
 */
import type { AccessScope } from '../../domain/customers.js';
import { canSeeDevice } from '../../domain/customers.js';
import type { Device, DeviceProfile } from '../../domain/device.js';
import { isPlatformError } from '../../domain/errors.js';
import { allows, type Permission } from '../../domain/permissions.js';
import type { TsValue } from '../../domain/telemetry.js';
import type { Command, SendCommand } from '../../domain/action-apis.js';
import type { Clock, DeviceQuery, Logger, Page } from '../../ports.js';
import {
  AlexaError,
  celsiusOf,
  discoverResponse,
  errorResponse,
  parseDirective,
  stateEvent,
  type AlexaDirective,
} from '../../protocols/alexa/v3.js';
import { API_KEY_PREFIX, type Principal } from '../auth.js';
import { discoveryEndpoint, modelOf, propertiesOf, stateKeys, type EndpointModel } from './endpoints.js';

export interface AlexaDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Verifies an API key or a sign-in token (the account-linking token). */
  readonly verifyApiKey: (key: string) => Promise<Principal>;
  readonly verifyToken: (token: string) => Promise<Principal>;
  readonly permissionsOf: (principal: Principal) => Promise<ReadonlySet<Permission>>;
  /** What the principal may see: its tenant, or a customer user's assigned devices. */
  readonly scopeOf: (principal: Principal) => Promise<AccessScope>;
  readonly getDevice: (id: string) => Promise<Device | undefined>;
  readonly getProfile: (id: string) => Promise<DeviceProfile | undefined>;
  readonly listDevices: (query: DeviceQuery) => Promise<Page<Device>>;
  readonly latest: (tenantId: string, deviceId: string, keys: readonly string[]) => Promise<Record<string, TsValue>>;
  readonly isOnline: (deviceId: string) => Promise<boolean>;
  readonly sendCommand: (input: SendCommand) => Promise<Command>;
}

/** Alexa's own limit on the endpoints of one Discover.Response. */
const MAX_ENDPOINTS = 300;
const PAGE = 500;
/** Alexa waits 8 s for an answer: a command not delivered by then is reported unreachable. */
const COMMAND_TIMEOUT_MS = 7000;

const READ: readonly Permission[] = ['devices:read', 'telemetry:read'];
const OPERATE: readonly Permission[] = [...READ, 'commands:operate'];

interface Target {
  readonly device: Device;
  readonly model: EndpointModel;
}

export class AlexaService {
  constructor(private readonly deps: AlexaDeps) {}

  /** One directive in, one event out (Discover.Response, Response, StateReport or ErrorResponse). */
  async handle(body: unknown): Promise<Record<string, unknown>> {
    let directive: AlexaDirective | undefined;
    try {
      directive = parseDirective(body);
      return await this.dispatch(directive);
    } catch (err) {
      const error = err instanceof AlexaError ? err : new AlexaError('INTERNAL_ERROR', 'the directive could not be handled');
      const header = directive?.header ?? (err instanceof AlexaError ? err.header : undefined);
      const log = { type: error.type, namespace: header?.namespace, name: header?.name, endpointId: directive?.endpointId, reason: error.message };
      if (error.type === 'INTERNAL_ERROR') this.deps.logger.error({ ...log, err }, 'alexa directive failed');
      else this.deps.logger.info(log, 'alexa directive refused');
      return errorResponse(error, header, directive?.endpointId);
    }
  }

  private async dispatch(d: AlexaDirective): Promise<Record<string, unknown>> {
    const { namespace, name } = d.header;
    if (namespace === 'Alexa.Discovery' && name === 'Discover') return discoverResponse(d.header, await this.discover(await this.principal(d, READ)));
    if (namespace === 'Alexa' && name === 'ReportState') {
      const target = await this.target(d, await this.principal(d, READ));
      return stateEvent('StateReport', d.header, target.device.id, await this.properties(target));
    }
    if (namespace === 'Alexa.PowerController' && (name === 'TurnOn' || name === 'TurnOff')) {
      const principal = await this.principal(d, OPERATE);
      const target = await this.target(d, principal);
      const power = target.model.power;
      if (!power) throw new AlexaError('INVALID_DIRECTIVE', 'this endpoint has no power control');
      const on = name === 'TurnOn';
      const params = typeof power.control.params === 'object' && power.control.params !== null && !Array.isArray(power.control.params) ? power.control.params : {};
      await this.command(principal, target, power.control.method, { ...params, on });
      return stateEvent('Response', d.header, target.device.id, await this.properties(target, { power: on }));
    }
    if (namespace === 'Alexa.ThermostatController' && name === 'SetTargetTemperature') {
      const principal = await this.principal(d, OPERATE);
      const target = await this.target(d, principal);
      const thermostat = target.model.thermostat;
      if (!thermostat) throw new AlexaError('INVALID_DIRECTIVE', 'this endpoint has no thermostat');
      const celsius = celsiusOf(d.payload.targetSetpoint);
      if (celsius === undefined) throw new AlexaError('INVALID_VALUE', 'payload.targetSetpoint must be {value, scale}');
      if (celsius < thermostat.min || celsius > thermostat.max) {
        const bound = (value: number) => ({ value, scale: 'CELSIUS' });
        throw new AlexaError('TEMPERATURE_VALUE_OUT_OF_RANGE', `the setpoint must be within ${thermostat.min}..${thermostat.max} °C`, { validRange: { minimumValue: bound(thermostat.min), maximumValue: bound(thermostat.max) } });
      }
      await this.command(principal, target, thermostat.control.method, { value: celsius });
      return stateEvent('Response', d.header, target.device.id, await this.properties(target, { setpoint: celsius }));
    }
    throw new AlexaError('INVALID_DIRECTIVE', `${namespace}.${name} is not supported`);
  }

  /** The linked account: an API key (ck_…) or a sign-in token, with the permissions the directive needs. */
  private async principal(d: AlexaDirective, needed: readonly Permission[]): Promise<Principal> {
    if (!d.token) throw new AlexaError('INVALID_AUTHORIZATION_CREDENTIAL', 'the directive carries no BearerToken scope');
    let principal: Principal;
    try {
      principal = d.token.startsWith(API_KEY_PREFIX) ? await this.deps.verifyApiKey(d.token) : await this.deps.verifyToken(d.token);
    } catch (err) {
      if (isPlatformError(err, 'UNAUTHORIZED') || isPlatformError(err, 'FORBIDDEN')) throw new AlexaError('INVALID_AUTHORIZATION_CREDENTIAL', 'the token is not valid');
      throw err;
    }
    const granted = await this.deps.permissionsOf(principal);
    const missing = needed.filter((p) => !allows(granted, p));
    if (missing.length > 0) throw new AlexaError('INVALID_AUTHORIZATION_CREDENTIAL', `the linked account lacks ${missing.join(', ')}`);
    return principal;
  }

  /** A device of the principal's scope that Alexa can drive; any other id is NO_SUCH_ENDPOINT (never "forbidden"). */
  private async target(d: AlexaDirective, principal: Principal): Promise<Target> {
    if (!d.endpointId) throw new AlexaError('INVALID_DIRECTIVE', 'directive.endpoint.endpointId is missing');
    const scope = await this.deps.scopeOf(principal);
    const device = await this.deps.getDevice(d.endpointId);
    if (!device || !canSeeDevice(scope, device)) throw new AlexaError('NO_SUCH_ENDPOINT', `no endpoint ${d.endpointId}`);
    const profile = await this.deps.getProfile(device.profileId);
    const model = profile ? modelOf(profile) : undefined;
    if (!model) throw new AlexaError('NO_SUCH_ENDPOINT', `endpoint ${d.endpointId} has no controls Alexa can use`);
    return { device, model };
  }

  private async discover(principal: Principal): Promise<Record<string, unknown>[]> {
    const scope = await this.deps.scopeOf(principal);
    const profiles = new Map<string, DeviceProfile | undefined>();
    const endpoints: Record<string, unknown>[] = [];
    for (let offset = 0; endpoints.length < MAX_ENDPOINTS; offset += PAGE) {
      const page = await this.deps.listDevices({ tenantId: scope.tenantId, ...(scope.customerIds ? { customerIds: [...scope.customerIds] } : {}), ...(scope.deviceIds ? { ids: [...scope.deviceIds] } : {}), limit: PAGE, offset });
      for (const device of page.items) {
        if (!canSeeDevice(scope, device)) continue;
        if (!profiles.has(device.profileId)) profiles.set(device.profileId, await this.deps.getProfile(device.profileId));
        const profile = profiles.get(device.profileId);
        const model = profile ? modelOf(profile) : undefined;
        if (profile && model && endpoints.length < MAX_ENDPOINTS) endpoints.push(discoveryEndpoint(device, profile, model));
      }
      if (page.items.length < PAGE) break;
    }
    return endpoints;
  }

  private async properties(target: Target, override: { power?: boolean; setpoint?: number } = {}) {
    const { device, model } = target;
    const keys = stateKeys(model);
    const latest = keys.length > 0 ? await this.deps.latest(device.tenantId, device.id, keys) : {};
    return propertiesOf(model, latest, await this.deps.isOnline(device.id), this.deps.clock.now(), override);
  }

  /** A one-way command, now or never: an offline device is ENDPOINT_UNREACHABLE (Alexa says so to the user). */
  private async command(principal: Principal, target: Target, method: string, params: Record<string, unknown>): Promise<void> {
    const { device } = target;
    if (!(await this.deps.isOnline(device.id))) throw new AlexaError('ENDPOINT_UNREACHABLE', `${device.name} is offline`);
    const command = await this.deps.sendCommand({
      tenantId: device.tenantId,
      deviceId: device.id,
      method,
      params: params as SendCommand['params'],
      oneway: true,
      persistent: false,
      timeoutMs: COMMAND_TIMEOUT_MS,
      origin: `alexa:${principal.userId}`,
    });
    if (command.status !== 'DELIVERED' && command.status !== 'SUCCESSFUL') throw new AlexaError('ENDPOINT_UNREACHABLE', `${device.name} did not take the command (${command.status})`);
  }
}
