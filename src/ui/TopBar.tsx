// Top bar: brand, mode tabs, the main action (Generate / Race, or Stop while running), settings
// and theme.

import { Icon } from './Icon';
import { ModeTabs, type Mode } from './ModeTabs';
import { ThemeToggle } from './ThemeToggle';
import type { Theme } from './useTheme';

export interface TopBarProps {
  mode: Mode;
  onMode: (m: Mode) => void;
  running: boolean;
  canRun: boolean;
  /** Why the action is disabled (tooltip). */
  disabledReason: string;
  onRun: () => void;
  onStop: () => void;
  settingsOpen: boolean;
  onSettings: () => void;
  theme: Theme;
  onTheme: () => void;
}

export function TopBar(p: TopBarProps) {
  const action = p.mode === 'race' ? 'Race' : 'Generate';
  return (
    <header className="top-bar">
      <span className="brand">
        <img src="/icons/icon.svg" alt="" width={22} height={22} />
        Quicksilver
      </span>
      <span className="tagline">diffusion code model, running in your browser</span>
      <ModeTabs mode={p.mode} onMode={p.onMode} />
      <span className="top-spacer" />
      {p.running ? (
        <button type="button" className="primary danger" onClick={p.onStop} data-testid="stop">
          <Icon name="stop" /> Stop
        </button>
      ) : (
        <button
          type="button"
          className="primary"
          onClick={p.onRun}
          disabled={!p.canRun}
          title={p.canRun ? `${action} (Ctrl+Enter)` : p.disabledReason}
          data-testid="run"
        >
          <Icon name="bolt" /> {action}
        </button>
      )}
      <button
        type="button"
        className={`icon-button${p.settingsOpen ? ' is-on' : ''}`}
        onClick={p.onSettings}
        aria-label="Settings"
        aria-expanded={p.settingsOpen}
        title="Settings"
        data-testid="settings-button"
      >
        <Icon name="gear" />
      </button>
      <ThemeToggle theme={p.theme} onToggle={p.onTheme} />
    </header>
  );
}
