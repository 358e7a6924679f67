// Register the service worker (vite-plugin-pwa) and track connectivity for the status bar.

import { useEffect, useState } from 'react';
import { registerSW } from 'virtual:pwa-register';
import type { OfflineState } from './state';

let registered = false;

export function useOffline(): OfflineState {
  const [offlineReady, setOfflineReady] = useState(
    () => typeof navigator.serviceWorker !== 'undefined' && !!navigator.serviceWorker.controller,
  );
  const [online, setOnline] = useState(() => navigator.onLine);

  useEffect(() => {
    if (!registered) {
      registered = true;
      // immediate: register now, not on window load. The SW itself calls skipWaiting +
      // clients.claim, so a new version takes over on the next navigation.
      registerSW({ immediate: true, onOfflineReady: () => setOfflineReady(true) });
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

  return { offlineReady, online };
}
