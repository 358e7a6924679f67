// onnxruntime-web is not a project dependency (the peer benchmark installs it with --no-save), so the
// typecheck must not need it: the benchmark uses it only through its own OrtLike interface.
declare module 'onnxruntime-web';
declare module 'onnxruntime-web/wasm';
declare module 'onnxruntime-web/webgpu';
