/** `continuum zone list|create|delete` (issue 17: zones, the geofences rules read with entered/left/dwell). */
import { readFileSync } from 'node:fs';
import { CONNECTION_HELP, CliError, connect, parseCommand, str, table, writeJson, type Io } from './common.js';
import { resolveDevice, resolveProfile } from './resolve.js';

export const ZONE_HELP = `Usage: continuum zone list [--json]
       continuum zone create NAME (--circle LAT,LON,RADIUS_M | --polygon "LAT,LON LAT,LON …" | --geojson FILE)
                             [--profile PROFILE | --device DEVICE] [--margin METRES] [--json]
       continuum zone delete ID|NAME

Zones (geofences) of the tenant, a device profile or a device: circles and polygons that rules
read with entered(zone), left(zone) and dwell(zone) (docs/RULES.md "Zones"). --polygon takes the
corners as lat,lon pairs (the ring is closed for you); --geojson a file holding a GeoJSON Polygon
or a Point with a "radius". --margin is the band outside the boundary (default 20 m) in which a
position changes nothing, against GPS jitter.

Example:
  continuum zone create depot --circle 52.5200,13.4050,150
  continuum zone create "North yard" --profile vans --polygon "52.52,13.40 52.53,13.40 52.53,13.42"

${CONNECTION_HELP}`;

interface View {
  id: string;
  name: string;
  ownerType: string;
  ownerId?: string;
  geometry: { type: string; coordinates: unknown; radius?: number };
  marginM: number;
}

function numbers(text: string, what: string): number[] {
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.some((n) => !Number.isFinite(n))) throw new CliError(`${what}: numbers separated by commas, got "${text}"`);
  return parts;
}

/** The geometry from --circle, --polygon or --geojson (exactly one); GeoJSON order is [lon, lat]. */
function geometryOf(v: { circle?: string; polygon?: string; geojson?: string }): unknown {
  const given = [v.circle, v.polygon, v.geojson].filter((x) => x !== undefined);
  if (given.length !== 1) throw new CliError('give exactly one of --circle, --polygon, --geojson');
  if (v.circle !== undefined) {
    const [lat, lon, radius, ...extra] = numbers(v.circle, '--circle');
    if (radius === undefined || extra.length > 0) throw new CliError('--circle is LAT,LON,RADIUS_M');
    return { type: 'Point', coordinates: [lon, lat], radius };
  }
  if (v.polygon !== undefined) {
    const ring = v.polygon.trim().split(/\s+/).map((pair) => {
      const [lat, lon, ...extra] = numbers(pair, '--polygon');
      if (lon === undefined || extra.length > 0) throw new CliError(`--polygon: each corner is LAT,LON, got "${pair}"`);
      return [lon, lat];
    });
    const first = ring[0];
    const last = ring[ring.length - 1];
    if (first && last && (first[0] !== last[0] || first[1] !== last[1])) ring.push(first);
    return { type: 'Polygon', coordinates: [ring] };
  }
  try {
    return JSON.parse(readFileSync(v.geojson as string, 'utf8')) as unknown;
  } catch (err) {
    throw new CliError(`--geojson: ${(err as Error).message}`);
  }
}

function shape(g: View['geometry']): string {
  if (g.type === 'Point') {
    const [lon, lat] = g.coordinates as [number, number];
    return `circle ${lat},${lon} r=${g.radius} m`;
  }
  const rings = g.coordinates as unknown[][];
  return `polygon, ${(rings[0]?.length ?? 1) - 1} corners${rings.length > 1 ? `, ${rings.length - 1} holes` : ''}`;
}

export async function runZone(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout).write(ZONE_HELP + '\n');
    return command === undefined ? 1 : 0;
  }
  const parsed = parseCommand(rest, {
    circle: { type: 'string' },
    polygon: { type: 'string' },
    geojson: { type: 'string' },
    profile: { type: 'string' },
    device: { type: 'string' },
    margin: { type: 'string' },
  });
  const v = parsed.values;
  if (v.help) return io.stdout.write(ZONE_HELP + '\n'), 0;
  switch (command) {
    case 'list': {
      const client = await connect(parsed, io.env);
      const page = await client.request<{ items: View[] }>('GET', '/api/zones');
      if (v.json) return writeJson(io, page), 0;
      if (page.items.length === 0) io.stdout.write('no zones\n');
      else io.stdout.write(table([['ID', 'NAME', 'OWNER', 'SHAPE', 'MARGIN'], ...page.items.map((z) => [z.id, z.name, z.ownerId ? `${z.ownerType} ${z.ownerId}` : z.ownerType, shape(z.geometry), `${z.marginM} m`])]));
      return 0;
    }
    case 'create':
    case 'add': {
      const [name, ...extra] = parsed.positionals;
      if (!name) throw new CliError('NAME is required');
      if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
      const profile = str(v.profile);
      const device = str(v.device);
      if (profile !== undefined && device !== undefined) throw new CliError('a zone belongs to a profile or a device, not both');
      const geometry = geometryOf({ ...(str(v.circle) !== undefined ? { circle: str(v.circle) } : {}), ...(str(v.polygon) !== undefined ? { polygon: str(v.polygon) } : {}), ...(str(v.geojson) !== undefined ? { geojson: str(v.geojson) } : {}) });
      const margin = str(v.margin);
      const marginM = margin === undefined ? undefined : Number(margin);
      if (marginM !== undefined && !Number.isFinite(marginM)) throw new CliError(`--margin: metres, got "${margin}"`);
      const client = await connect(parsed, io.env);
      const owner = profile !== undefined ? { ownerType: 'profile', ownerId: (await resolveProfile(client, profile)).id } : device !== undefined ? { ownerType: 'device', ownerId: (await resolveDevice(client, device)).id } : { ownerType: 'tenant' };
      const created = await client.request<View>('POST', '/api/zones', { json: { name, ...owner, geometry, ...(marginM !== undefined ? { marginM } : {}) } });
      if (v.json) return writeJson(io, created), 0;
      io.stdout.write(`created zone ${created.name} (${created.id})\n`);
      return 0;
    }
    case 'delete': {
      const [ref, ...extra] = parsed.positionals;
      if (!ref) throw new CliError('ID or NAME is required');
      if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
      const client = await connect(parsed, io.env);
      const { items } = await client.request<{ items: View[] }>('GET', '/api/zones');
      const matches = items.filter((z) => z.id === ref || z.name === ref);
      if (matches.length === 0) throw new CliError(`no zone "${ref}"`);
      if (matches.length > 1) throw new CliError(`several zones are named "${ref}" (different owners): give its id (continuum zone list)`);
      const zone = matches[0] as View;
      await client.request('DELETE', `/api/zones/${encodeURIComponent(zone.id)}`);
      io.stdout.write(`deleted zone ${zone.name} (${zone.id})\n`);
      return 0;
    }
    default:
      throw new CliError(`unknown zone command "${command}" (list, create, delete)`);
  }
}
