/**
 * Device self-provisioning with ThingsBoard semantics: the device presents a profile's provision
 * key and secret, optionally a name and its own credentials; the answer carries the credentials
 * it should use from now on. See thingsboard.io/docs/user-guide/device-provisioning.
 */
import { isPlatformError } from '../domain/errors.js';
import type { Logger } from '../ports.js';
import { randomBase62, safeEqual } from './auth-secrets.js';
import type { ProvisionRequest, ProvisionResponse } from '../ports/device-api.js';
import { fingerprintOfCertificate } from './registry-credentials.js';
import type { ProvisioningRegistry } from './registry-types.js';

const NOT_FOUND: ProvisionResponse = { status: 'NOT_FOUND', errorMsg: 'Failed to find provision profile or secret mismatch' };

export async function provisionDevice(registry: ProvisioningRegistry, logger: Logger, req: ProvisionRequest): Promise<ProvisionResponse> {
  if (typeof req.provisionDeviceKey !== 'string' || typeof req.provisionDeviceSecret !== 'string') return NOT_FOUND;
  const profile = await registry.store.findProfile({ provisionKey: req.provisionDeviceKey });
  if (!profile || profile.provisionSecret === undefined || !safeEqual(req.provisionDeviceSecret, profile.provisionSecret)) {
    return NOT_FOUND;
  }
  const name = req.deviceName ?? `device-${randomBase62(12)}`;
  const base = { tenantId: profile.tenantId, name, profileId: profile.id };
  try {
    if (await registry.findDeviceByName(profile.tenantId, name)) {
      return { status: 'FAILURE', errorMsg: `Device with name ${name} already exists` };
    }
    let response: ProvisionResponse;
    switch (req.credentialsType ?? 'ACCESS_TOKEN') {
      case 'MQTT_BASIC':
        await registry.createDevice({ ...base, basic: { clientId: req.clientId, username: req.username, password: req.password } });
        response = {
          status: 'SUCCESS',
          credentialsType: 'MQTT_BASIC',
          credentialsValue: { clientId: req.clientId ?? null, userName: req.username ?? null, password: req.password ?? null },
        };
        break;
      case 'X509_CERTIFICATE': {
        if (!req.hash) return { status: 'FAILURE', errorMsg: 'X509_CERTIFICATE provisioning needs the certificate in "hash"' };
        const fingerprint = fingerprintOfCertificate(req.hash);
        await registry.createDevice({ ...base, certificateFingerprint: fingerprint });
        response = { status: 'SUCCESS', credentialsType: 'X509_CERTIFICATE', credentialsValue: fingerprint };
        break;
      }
      default: {
        const { accessToken } = await registry.createDevice({ ...base, ...(req.token ? { accessToken: req.token } : {}) });
        response = { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: accessToken ?? null };
      }
    }
    logger.info({ device: name, profile: profile.name, credentialsType: response.credentialsType }, 'device provisioned');
    return response;
  } catch (err) {
    if (isPlatformError(err)) return { status: 'FAILURE', errorMsg: err.message };
    throw err;
  }
}
