// Registers the examples' service worker (built by vite-plugin-pwa into dist-examples/sw.js):
// it precaches the pages and scripts, so a page opens with no network after one visit.

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((err) => console.warn('service worker:', err));
}
