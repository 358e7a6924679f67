// The editor's text survives a reload and a crash of the tab: it is written to localStorage a
// moment after each change (and at once when the page is hidden or unloads), and read back when
// the editor is created. localStorage, not IndexedDB: it is synchronous, so the write is in the
// browser's hands before the next event, even if the tab's renderer dies right after.

export const DRAFT_KEY = 'quicksilver.draft.v1';

/** How long after the last keystroke the text is saved (a burst of typing is one write). */
export const DRAFT_DELAY_MS = 300;

/** 'saved': in storage. 'pending': a change waits for its write. 'failed': storage refused it. */
export type DraftState = { status: 'saved' | 'pending' } | { status: 'failed'; reason: string };

type Store = Pick<Storage, 'getItem' | 'setItem'>;

/** The page's localStorage, or undefined where reading it throws (some private modes, sandboxes). */
export function localStore(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/** This tab's sessionStorage (kept across a reload and a crash of the tab, not shared with others). */
export function sessionStore(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

/**
 * Where a draft is kept: this tab's own copy first (two tabs editing at once must not take each
 * other's text on a reload), then the last text saved by any tab (a tab opened afresh).
 */
export interface DraftStores {
  tab?: Store;
  shared?: Store;
}

/** The text the editor starts with: this tab's draft, else the last one saved by any tab. */
export function restoreDraft(stores: DraftStores): string | null {
  return loadDraft(stores.tab) ?? loadDraft(stores.shared);
}

/** The saved text, or null when there is none (or storage is unavailable or holds junk). */
export function loadDraft(storage: Store | undefined): string | null {
  try {
    const raw = storage?.getItem(DRAFT_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as { text?: unknown };
    return typeof v.text === 'string' ? v.text : null;
  } catch {
    return null;
  }
}

/** Write `text`; never throws (private mode, a full quota): says why it failed instead. */
export function saveDraft(storage: Store | undefined, text: string): DraftState {
  if (!storage) return { status: 'failed', reason: 'this browser gives the page no localStorage' };
  try {
    storage.setItem(DRAFT_KEY, JSON.stringify({ text, savedAt: Date.now() }));
    return { status: 'saved' };
  } catch (err) {
    const name = (err as { name?: string }).name ?? 'Error';
    return {
      status: 'failed',
      reason: name === 'QuotaExceededError'
        ? `the text (${text.length.toLocaleString('en-US')} characters) is larger than the browser lets a page keep`
        : `${name}: ${(err as Error).message ?? String(err)}`,
    };
  }
}

/**
 * Debounced saving of one text source. `schedule()` on every change; `flush()` writes a pending
 * change now (page hidden, unload). `onState` hears every state change.
 */
export class DraftSaver {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private state: DraftState = { status: 'saved' };

  constructor(
    private readonly stores: DraftStores,
    private readonly read: () => string,
    private readonly onState: (s: DraftState) => void = () => {},
    private readonly delayMs = DRAFT_DELAY_MS,
  ) {}

  schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.set({ status: 'pending' });
  }

  flush(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    const text = this.read();
    // The tab's copy may fail alone (its own quota); what counts is that the text is somewhere.
    const tab = this.stores.tab ? saveDraft(this.stores.tab, text) : null;
    const shared = saveDraft(this.stores.shared, text);
    this.set(shared.status === 'saved' || tab?.status !== 'saved' ? shared : tab);
  }

  dispose(): void {
    this.flush();
  }

  private set(s: DraftState): void {
    if (s.status === this.state.status && s.status !== 'failed') return;
    this.state = s;
    this.onState(s);
  }
}
