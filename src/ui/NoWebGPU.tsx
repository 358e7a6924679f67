// The friendly explanation shown instead of the engine when WebGPU cannot be used.

import type { UnavailableReason } from './state';

const EXPLANATIONS: Record<UnavailableReason, { title: string; body: string }> = {
  'no-navigator-gpu': {
    title: "This browser doesn't support WebGPU",
    body:
      'Quicksilver runs its model on your graphics card through WebGPU, and this browser does ' +
      "not offer it. Try a recent Chrome or Edge (113 or newer), Safari 26, or Firefox 141 on Windows. " +
      'WebGPU also needs a secure page: https:// or localhost.',
  },
  'no-adapter': {
    title: 'WebGPU is switched off or your GPU is blocked',
    body:
      'The browser supports WebGPU but did not hand out a GPU. Hardware acceleration may be ' +
      'disabled in the settings, or the graphics driver may be on the browser’s blocklist. ' +
      'On Linux, Chrome needs chrome://flags/#enable-unsafe-webgpu.',
  },
  'request-adapter-failed': {
    title: 'Could not reach the GPU',
    body: 'Asking the browser for a GPU adapter failed. Updating the browser or graphics driver usually helps.',
  },
  'request-device-failed': {
    title: 'Your GPU could not start the engine',
    body:
      'A GPU adapter was found, but creating a device on it failed. Another tab may be using ' +
      'a lot of GPU memory; closing it and reloading often helps.',
  },
  'worker-failed': {
    title: 'The engine failed to start',
    body: 'The background engine worker did not start properly. Reloading the page usually fixes this.',
  },
};

export interface NoWebGPUProps {
  reason: UnavailableReason;
  message: string;
  /** The models run on the CPU engine (WebAssembly) instead. */
  cpuFallback?: boolean;
}

export function NoWebGPU({ reason, message, cpuFallback = false }: NoWebGPUProps) {
  const { title, body } = EXPLANATIONS[reason];
  return (
    <div className={`notice${cpuFallback ? ' notice-soft' : ''}`} role="alert" data-testid="no-webgpu" data-reason={reason}>
      <h2>{title}</h2>
      <p>{body}</p>
      <p className="notice-fine">
        {cpuFallback
          ? 'Quicksilver runs the model on its CPU engine (WebAssembly) instead: everything works, more slowly.'
          : 'You can still read and edit code; generation needs WebGPU.'}
      </p>
      <details>
        <summary>Technical details</summary>
        <code>
          {reason}: {message}
        </code>
      </details>
    </div>
  );
}
