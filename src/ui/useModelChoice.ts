// Which models the app uses: reads models/index.json, applies ?model= / ?ar= and the settings,
// and loads the diffusion model once WebGPU is ready, falling back to the next shipped model
// when one is missing. The AR twin is loaded only when Race mode needs it.

import { useEffect, useMemo, useState } from 'react';
import { ErrorNames } from '../protocol';
import { modelManager } from './modelManager';
import { chooseModels, fetchModelsIndex, type ModelChoice, type ModelsIndex } from './modelsIndex';
import type { Settings } from './settings';
import type { EngineChoice } from './state';

export interface UrlModels {
  model: string | null;
  ar: string | null;
  engine: EngineChoice | null;
}

export function readUrlModels(search = window.location.search): UrlModels {
  const q = new URLSearchParams(search);
  const engine = q.get('engine');
  return { model: q.get('model') || null, ar: q.get('ar') || null, engine: engine === 'auto' || engine === 'webgpu' || engine === 'cpu' ? engine : null };
}

export interface ModelChoiceState {
  /** undefined while index.json loads; null when there is none. */
  index: ModelsIndex | null | undefined;
  choice: ModelChoice | null;
  /** The engine asked for (URL ?engine= beats the settings). */
  engine: EngineChoice;
  /** The diffusion model in use (loading, ready or failed). */
  diffusionId: string | null;
  arId: string | null;
  notes: string[];
  url: UrlModels;
}

/**
 * `canLoad`: WebGPU is ready, or it is missing and the CPU engine can run the models instead
 * (engine auto or cpu).
 */
export function useModelChoice(canLoad: boolean, settings: Settings, wantAr: boolean): ModelChoiceState {
  const [url] = useState(readUrlModels);
  const engine = url.engine ?? settings.engine;
  const [engineEpoch, setEngineEpoch] = useState(0);
  useEffect(() => {
    modelManager().setEngine(engine);
    setEngineEpoch((n) => n + 1);
  }, [engine]);
  const adapterReady = canLoad && engineEpoch > 0;
  const [index, setIndex] = useState<ModelsIndex | null | undefined>(undefined);
  const [diffusionId, setDiffusionId] = useState<string | null>(null);
  const [notes, setNotes] = useState<string[]>([]);

  useEffect(() => {
    let live = true;
    void fetchModelsIndex().then((i) => live && setIndex(i));
    return () => {
      live = false;
    };
  }, []);

  const choice = useMemo(
    () =>
      index === undefined
        ? null
        : chooseModels(index, { urlModel: url.model, urlAr: url.ar, settingsModel: settings.modelId, settingsAr: settings.arModelId }),
    [index, url, settings.modelId, settings.arModelId],
  );

  useEffect(() => {
    if (!adapterReady || !choice) return;
    let live = true;
    void (async () => {
      const said: string[] = [];
      for (const id of choice.diffusion) {
        if (!live) return;
        setDiffusionId(id);
        try {
          await modelManager().ensure(id);
          break;
        } catch (err) {
          if ((err as { name?: string }).name !== ErrorNames.ModelNotFound) break;
          const next = choice.diffusion[choice.diffusion.indexOf(id) + 1];
          if (next) said.push(`Model "${id}" is not available here, so ${next} is used instead.`);
        }
      }
      if (live) setNotes(said);
    })();
    return () => {
      live = false;
    };
  }, [adapterReady, choice, engine]);

  const arId = choice?.ar ?? null;
  useEffect(() => {
    if (adapterReady && wantAr && arId) modelManager().ensure(arId).catch(() => {});
  }, [adapterReady, wantAr, arId, engine]);

  return { index, choice, engine, diffusionId, arId, notes, url };
}
