// Register the service worker (vite-plugin-pwa), track connectivity for the status bar, and offer
// a new version when one is installed (the update prompt).

import { useEffect, useState } from 'react';
import { registerSW } from 'virtual:pwa-register';
import type { OfflineState } from './state';

let registered = false;
/** From registerSW: tells the waiting service worker to take over, then the page reloads. */
let updateSW: ((reload?: boolean) => Promise<void>) | null = null;

/** How often an open page asks the server for a new version (also when the tab becomes visible). */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

/** The user said yes to the update prompt: the new version takes over and the page reloads. */
export function applyUpdate(): void {
  void updateSW?.(true);
}

export function useOffline(): OfflineState {
  const [offlineReady, setOfflineReady] = useState(
    () => typeof navigator.serviceWorker !== 'undefined' && !!navigator.serviceWorker.controller,
  );
  const [online, setOnline] = useState(() => navigator.onLine);
  const [updateReady, setUpdateReady] = useState(false);

  useEffect(() => {
    if (!registered) {
      registered = true;
      // immediate: register now, not on window load. A new version installs in the background
      // and waits (src/sw.ts) until the user takes it from the update prompt.
      updateSW = registerSW({
        immediate: true,
        onOfflineReady: () => setOfflineReady(true),
        onNeedRefresh: () => setUpdateReady(true),
        onRegisteredSW: (_url, registration) => {
          if (!registration) return;
          const check = () => void registration.update().catch(() => {});
          setInterval(check, UPDATE_CHECK_MS);
          document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && check());
        },
      });
    }
    const sw = navigator.serviceWorker;
    const onController = () => setOfflineReady(!!sw?.controller);
    sw?.addEventListener('controllerchange', onController);
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    return () => {
      sw?.removeEventListener('controllerchange', onController);
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);

  return { offlineReady, online, updateReady };
}
