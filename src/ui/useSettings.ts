// Settings state, persisted in localStorage on every change.

import { useCallback, useState } from 'react';
import { DEFAULT_SETTINGS, loadSettings, saveSettings, type Settings } from './settings';

const storage = (): Storage | undefined => {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
};

export function useSettings(): [Settings, (patch: Partial<Settings>) => void, () => void] {
  const [settings, setSettings] = useState<Settings>(() => loadSettings(storage()));
  const update = useCallback((patch: Partial<Settings>) => {
    setSettings((prev) => {
      const next = { ...prev, ...patch };
      saveSettings(storage(), next);
      return next;
    });
  }, []);
  const reset = useCallback(() => {
    saveSettings(storage(), DEFAULT_SETTINGS);
    setSettings({ ...DEFAULT_SETTINGS });
  }, []);
  return [settings, update, reset];
}
