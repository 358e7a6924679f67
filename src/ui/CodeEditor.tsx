// Monaco editor (Python) in a div that fills its parent, with Quicksilver's commands:
// Ctrl/Cmd+Enter generate, Ctrl/Cmd+Shift+Enter fill the selection, Alt+\ complete at cursor
// (the ghost-text provider itself is registered by the app with the library's registerCompletions).

import { useEffect, useRef } from 'react';
import { monaco, themeFor } from './monaco';
import { currentTheme } from './useTheme';

export interface EditorCommands {
  generate?: () => void;
  fillSelection?: (editor: monaco.editor.IStandaloneCodeEditor) => void;
}

export interface CodeEditorProps {
  initialValue: string;
  /** Called with the editor once it exists. */
  onReady?: (editor: monaco.editor.IStandaloneCodeEditor) => void;
  /** Latest handlers for the editor's commands (read when a command runs). */
  commands?: EditorCommands;
}

export function CodeEditor({ initialValue, onReady, commands }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const latest = useRef<EditorCommands | undefined>(commands);
  latest.current = commands;

  useEffect(() => {
    if (!host.current) return;
    const editor = monaco.editor.create(host.current, {
      value: initialValue,
      language: 'python',
      theme: themeFor(currentTheme()),
      automaticLayout: true,
      minimap: { enabled: false },
      overviewRulerBorder: false,
      hideCursorInOverviewRuler: true,
      fontSize: 14,
      fontFamily: "'JetBrains Mono', 'Fira Code', ui-monospace, 'DejaVu Sans Mono', monospace",
      scrollBeyondLastLine: false,
      padding: { top: 12 },
      tabSize: 4,
      renderLineHighlight: 'line',
      // Ghost text is the completion here; the word-list popup would fight it for Tab.
      quickSuggestions: false,
      inlineSuggest: { enabled: true, showToolbar: 'onHover' },
      fixedOverflowWidgets: true,
    });
    const actions = [
      editor.addAction({
        id: 'quicksilver.generate',
        label: 'Quicksilver: Generate after this code',
        keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter],
        contextMenuGroupId: '1_quicksilver',
        contextMenuOrder: 1,
        run: () => latest.current?.generate?.(),
      }),
      editor.addAction({
        id: 'quicksilver.fillSelection',
        label: 'Quicksilver: Fill the selection',
        keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.Enter],
        contextMenuGroupId: '1_quicksilver',
        contextMenuOrder: 2,
        precondition: 'editorHasSelection',
        run: (ed) => latest.current?.fillSelection?.(ed as monaco.editor.IStandaloneCodeEditor),
      }),
      editor.addAction({
        id: 'quicksilver.completeAtCursor',
        label: 'Quicksilver: Complete at cursor',
        keybindings: [monaco.KeyMod.Alt | monaco.KeyCode.Backslash],
        contextMenuGroupId: '1_quicksilver',
        contextMenuOrder: 3,
        run: (ed) => ed.trigger('quicksilver', 'editor.action.inlineSuggest.trigger', {}),
      }),
    ];
    onReady?.(editor);
    return () => {
      for (const a of actions) a.dispose();
      editor.dispose();
    };
    // The editor owns its text after creation; initialValue is only the seed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return <div ref={host} className="code-editor" data-testid="editor" />;
}
