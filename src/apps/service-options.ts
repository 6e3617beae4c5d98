/** Config sections turned into the option shapes services take (units, defaults): one place per service. */
import { DEFAULT_DEVICE_AUTH_LIMITS, type DeviceAuthLimits } from '../services/device-auth-guard.js';
import type { Config } from './config.js';

/** `deviceAuth` (seconds, as operators write them) as the registry's brute-force guard limits (ms). */
export function deviceAuthLimits(config: Config): DeviceAuthLimits {
  const d = config.deviceAuth;
  return {
    ...DEFAULT_DEVICE_AUTH_LIMITS,
    maxFailuresPerAddress: d.maxFailuresPerAddress,
    maxFailuresPerCredential: d.maxFailuresPerCredential,
    windowMs: d.windowSeconds * 1000,
    lockoutMs: d.lockoutSeconds * 1000,
    maxLockoutMs: d.maxLockoutSeconds * 1000,
  };
}
