// Script of bench/onnx.bench.ts's browser runner page (bench/onnx/page.html, written by the bench):
// runs the measurement asked for in the URL (?request=<JSON PageRequest>) in a module Worker, as
// the app runs its engines, and leaves the result on window.__onnxBench.
const request = JSON.parse(new URLSearchParams(location.search).get('request') ?? '{}') as unknown;
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (e) => {
  (window as unknown as { __onnxBench: unknown }).__onnxBench = e.data;
  document.getElementById('out')!.textContent = JSON.stringify(e.data, null, 1);
};
worker.onerror = (e) => {
  (window as unknown as { __onnxBench: unknown }).__onnxBench = { error: e.message };
};
worker.postMessage(request);
