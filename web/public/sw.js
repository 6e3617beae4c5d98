// The dashboard's service worker: keeps the app shell (index.html, built assets, manifest, icons)
// so the dashboard opens without a network. The API is never cached: /api/ (REST and the live
// WebSocket) and /mqtt always go to the platform, so no stale or private data is kept here.
const SHELL = 'continuum-shell-v1';
const PRECACHE = ['/', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png'];

/** The built bundle's names are hashed: read them from index.html. */
async function precache() {
  const cache = await caches.open(SHELL);
  await cache.addAll(PRECACHE);
  const index = await cache.match('/');
  await shellAssets(cache, index ? await index.text() : '', true);
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('continuum-') && n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// .json: the offline base map's data (world-atlas), named by the map's chunk.
const ASSET = /\/?assets\/[\w.-]+\.(?:json|js|css)\b/g;
const named = (text) => new Set([...text.matchAll(ASSET)].map((m) => (m[0].startsWith('/') ? m[0] : `/${m[0]}`)));

/** The assets index.html names, and those its bundles name; `fetchMissing` caches them too. */
async function shellAssets(cache, html, fetchMissing = false) {
  const keep = named(html);
  // Followed to any depth: index → the map's lazy chunk → the base map chunk → its data.
  const queue = [...keep];
  while (queue.length > 0) {
    const path = queue.shift();
    if (fetchMissing && !(await cache.match(path))) await cache.add(path);
    const hit = await cache.match(path);
    if (hit && path.endsWith('.js')) {
      for (const p of named(await hit.text())) {
        if (!keep.has(p)) {
          keep.add(p);
          queue.push(p);
        }
      }
    }
  }
  if (fetchMissing) for (const path of keep) if (!(await cache.match(path))) await cache.add(path);
  return keep;
}

/**
 * A new index.html: keep it, and drop assets of older builds. Kept are the assets index.html
 * names and those its bundles name (Vite lists lazy chunks such as the map's in the main bundle).
 */
async function keepShell(res) {
  const cache = await caches.open(SHELL);
  const html = await res.clone().text();
  await cache.put('/', res);
  const keep = await shellAssets(cache, html);
  for (const req of await cache.keys()) {
    const path = new URL(req.url).pathname;
    if (path.startsWith('/assets/') && !keep.has(path)) await cache.delete(req);
  }
}

function isApi(url) {
  return url.pathname === '/api' || url.pathname.startsWith('/api/') || url.pathname === '/mqtt';
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || isApi(url)) return;
  if (request.mode === 'navigate') {
    // Network first so a new build shows at once; the cached shell when offline.
    event.respondWith(
      fetch(request)
        .then((res) => {
          if (res.ok) void keepShell(res.clone());
          return res;
        })
        .catch(() => caches.match('/').then((hit) => hit || Response.error())),
    );
    return;
  }
  // Built assets are content-hashed (never change): cache first, filled as they are used.
  event.respondWith(
    caches.match(request).then(
      (hit) =>
        hit ||
        fetch(request).then((res) => {
          if (res.ok && (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/'))) {
            const copy = res.clone();
            void caches.open(SHELL).then((cache) => cache.put(request, copy));
          }
          return res;
        }),
    ),
  );
});
