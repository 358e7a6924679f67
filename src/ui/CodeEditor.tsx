// Monaco editor (Python) in a div that fills its parent.

import { useEffect, useRef } from 'react';
import { monaco, THEME } from './monaco';

export interface CodeEditorProps {
  initialValue: string;
  /** Called with the editor once it exists (later: read the prompt, mark the infill hole). */
  onReady?: (editor: monaco.editor.IStandaloneCodeEditor) => void;
}

export function CodeEditor({ initialValue, onReady }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!host.current) return;
    const editor = monaco.editor.create(host.current, {
      value: initialValue,
      language: 'python',
      theme: THEME,
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
    });
    onReady?.(editor);
    return () => editor.dispose();
    // The editor owns its text after creation; initialValue is only the seed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return <div ref={host} className="code-editor" data-testid="editor" />;
}
