// React view of one model's loading state (src/ui/modelManager.ts).

import { useSyncExternalStore } from 'react';
import { modelManager } from './modelManager';
import type { ModelState } from './state';

export function useModel(modelId: string | null): ModelState {
  const m = modelManager();
  return useSyncExternalStore(m.subscribe, () => m.get(modelId));
}
