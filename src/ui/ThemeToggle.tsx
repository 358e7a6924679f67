// Dark / light switch.

import { Icon } from './Icon';
import type { Theme } from './useTheme';

export function ThemeToggle({ theme, onToggle }: { theme: Theme; onToggle: () => void }) {
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button type="button" className="icon-button" onClick={onToggle} aria-label={`Switch to the ${next} theme`} title={`Switch to the ${next} theme`} data-testid="theme-toggle">
      <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
    </button>
  );
}
