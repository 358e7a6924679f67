// Quicksilver as a library: an offline masked-diffusion code model in a Web Worker, and Monaco
// inline completions from it. Everything a page needs is exported here (built by
// `npm run build:lib` into dist-lib/ with .d.ts; docs/LIBRARY.md).
//
//   const qs = createQuicksilver({ model: 'qs-code-diffusion-tiny', baseUrl: '/models/' });
//   await qs.load();
//   const { text } = await qs.infill('def add(a, b):\n    return ', '\n', { onStep: (s) => show(s.text) });
//   registerCompletions(monaco, editor, qs);

export {
  createQuicksilver,
  DEFAULT_GEN_LENGTH,
  type Quicksilver,
  type QuicksilverOptions,
  type RunOptions,
  type LoadOptions,
  type StepUpdate,
  type EngineChoice,
} from './client';
export { registerCompletions, COMPLETION_DEBOUNCE_MS, type CompletionOptions, type CompletionsHandle, type Monaco } from './completions';
export { completionEdit, type CompletionContext, type CompletionEdit } from './completionEdit';
export { SpanText, type SpanView } from './spanText';
export { isCancelled } from '../diffusion/types';
// The worker protocol's data types and error names (what load/generate/infill resolve and reject with).
export {
  applyStep,
  ErrorNames,
  PROTOCOL_VERSION,
  type AdapterReport,
  type CanvasLayout,
  type ConfidenceMeasure,
  type GenerationEvent,
  type GenerationResult,
  type LoadModelEvent,
  type LoadModelResponse,
  type ModelConfig,
  type ProbeResponse,
  type RevisionOptions,
  type SampleStats,
  type SamplerKnobs,
  type StepEvent,
  type TokenChange,
  type UnmaskSchedule,
  type WebGPUUnavailableReason,
  type WorkerEvent,
} from '../protocol';
