/**
 * How a refused device message is reported, the same for the device API and the gateway API:
 * turned into a PlatformError and logged with the device. Transports count the reject
 * (metrics.reject) when they answer, so it is counted once whatever the path.
 */
import type { DeviceIdentity, TransportName } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { Logger } from '../ports.js';

export function rejectedDeviceMessage(logger: Logger, identity: DeviceIdentity, transport: TransportName, kind: string, err: unknown): PlatformError {
  const error = err instanceof PlatformError ? err : new PlatformError('INTERNAL', undefined, { cause: err });
  const log = { deviceId: identity.deviceId, device: identity.name, profileId: identity.profileId, transport, kind, code: error.code, reason: error.message };
  if (error.code === 'INTERNAL' || error.code === 'UNAVAILABLE') logger.error({ ...log, err }, 'device message failed');
  else logger.warn(log, 'device message rejected');
  return error;
}
