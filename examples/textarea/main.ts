// The smallest useful page: the library's public API and a <textarea>. The model continues the
// code; every denoising step shows in the textarea (░ = still masked). Its state is mirrored in
// data attributes (status: data-state; textarea: data-step, data-masked) for tests.

import { createQuicksilver } from 'quicksilver';
import { registerServiceWorker } from '../registerSW';

registerServiceWorker();
const params = new URLSearchParams(location.search);
const code = document.querySelector<HTMLTextAreaElement>('#code')!;
const button = document.querySelector<HTMLButtonElement>('#generate')!;
const status = document.querySelector<HTMLSpanElement>('#status')!;

function show(state: string, text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

const qs = createQuicksilver({
  model: params.get('model') ?? 'qs-code-diffusion-tiny',
  engine: (params.get('engine') as 'auto' | 'webgpu' | 'cpu' | null) ?? 'auto',
  baseUrl: '../models/',
});

qs.load({ onProgress: (p) => show('loading', `loading the model: ${p.type}…`) }).then(
  (m) => {
    show('ready', `${m.modelId} on ${m.engine}${m.fromCache ? ', from the offline cache' : ''}`);
    status.dataset.fromCache = String(m.fromCache);
    button.disabled = false;
  },
  (err: Error) => show('error', `${err.name}: ${err.message}`),
);

button.addEventListener('click', async () => {
  const prompt = code.value;
  button.disabled = true;
  show('running', 'denoising…');
  try {
    const result = await qs.generate(prompt, {
      genLength: 48,
      temperature: 0,
      // One step at a time as the span fills in: prompt + the span so far, masks as ░.
      onStep: ({ text, masked, step }) => {
        code.value = prompt + text;
        code.dataset.step = String(step ? step.step + 1 : 0);
        code.dataset.masked = String(masked);
      },
    });
    code.value = prompt + result.text;
    show('done', `${result.stats.steps} steps, ${result.stats.tokensGenerated} tokens in ${Math.round(result.stats.ms)} ms`);
    status.dataset.steps = String(result.stats.steps);
    status.dataset.text = result.text;
  } catch (err) {
    show('error', `${(err as Error).name}: ${(err as Error).message}`);
  } finally {
    button.disabled = false;
  }
});
