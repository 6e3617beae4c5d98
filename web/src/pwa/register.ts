/** Registers the app-shell service worker (web/public/sw.js); the dashboard works without it. */
export function registerServiceWorker(): void {
  // Service workers need a secure context (https or localhost); elsewhere the app just runs online.
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err: unknown) => {
      // Not fatal (e.g. a private window that refuses storage): say so once, quietly.
      console.warn('service worker not registered:', err);
    });
  });
}
