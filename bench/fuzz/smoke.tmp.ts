import { pureSurfaces } from './surfaces/pure.js';
const only = process.argv[2];
for (const s of pureSurfaces) {
  if (only && !s.name.includes(only)) continue;
  const t = performance.now();
  const r = await s.run(Number(process.argv[3] ?? 3000), 42);
  console.log(s.name, r.cases, Math.round(performance.now() - t), 'ms', r.failure ? JSON.stringify(r.failure, null, 1).slice(0, 1500) : 'ok');
}
