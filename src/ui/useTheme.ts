// Dark / light theme: the system preference until the user picks one (then remembered).
// Sets <html data-theme> (theme.css variables) and Monaco's theme.

import { useCallback, useEffect, useState } from 'react';
import { monaco, themeFor } from './monaco';

export type Theme = 'dark' | 'light';
const KEY = 'quicksilver.theme';

function initial(): Theme {
  let theme: Theme = window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'dark' || saved === 'light') theme = saved;
  } catch {
    // no storage
  }
  // Set before the first render so the editor is created with the right theme.
  document.documentElement.dataset.theme = theme;
  return theme;
}

/** The page theme now (for code that runs outside React, e.g. creating the editor). */
export function currentTheme(): Theme {
  return document.documentElement.dataset.theme === 'light' ? 'light' : 'dark';
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.querySelector('meta[name="color-scheme"]')?.setAttribute('content', theme);
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', theme === 'dark' ? '#0d1117' : '#f6f8fb');
    monaco.editor.setTheme(themeFor(theme));
  }, [theme]);
  const toggle = useCallback(() => {
    setTheme((t) => {
      const next = t === 'dark' ? 'light' : 'dark';
      try {
        localStorage.setItem(KEY, next);
      } catch {
        // no storage
      }
      return next;
    });
  }, []);
  return [theme, toggle];
}
