/** How long after `load` the first page has to itself before the shell is cached. */
const SETTLE_MS = 3000;

/** Registers the app-shell service worker (web/public/sw.js); the dashboard works without it. */
export function registerServiceWorker(): void {
  // Service workers need a secure context (https or localhost); elsewhere the app just runs online.
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const register = (): void => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err: unknown) => {
      // Not fatal (e.g. a private window that refuses storage): say so once, quietly.
      console.warn('service worker not registered:', err);
    });
  };
  // Not at `load`: on a first visit the worker's install fetches and reads the whole shell (the
  // map's chunks and its 750 kB base map data included), which competed with the first page's own
  // API reads and cost a cold device page ~0.7 s (bench/dashboard-render.ts). The shell is only
  // needed for the next visit, so it is cached once the first page had time to settle.
  window.addEventListener('load', () => {
    setTimeout(() => {
      if ('requestIdleCallback' in window) requestIdleCallback(register, { timeout: SETTLE_MS });
      else register();
    }, SETTLE_MS);
  });
}
