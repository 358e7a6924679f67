// Acquire a WebGPU adapter + device from any `GPU` object, with no DOM dependency.
//
// The same code runs in the browser worker (`navigator.gpu`) and in Node tests
// (`create([])` from the `webgpu` npm package, Dawn + SwiftShader). Callers pass the GPU object
// in; this module never touches `navigator`, `window` or `document`.

/** Why WebGPU could not be used. Stable strings: the UI and tests switch on them. */
export type WebGPUUnavailableReason =
  /** No `GPU` object at all (browser without WebGPU, insecure context, flag off). */
  | 'no-navigator-gpu'
  /** `requestAdapter()` resolved to null (blocklisted driver, no backend, headless without flag). */
  | 'no-adapter'
  /** `requestAdapter()` itself threw. */
  | 'request-adapter-failed'
  /** An adapter exists but `requestDevice()` rejected (limits/features, device lost at birth). */
  | 'request-device-failed';

/** Thrown by `requestDevice` when WebGPU cannot be used; `reason` says which step failed. */
export class WebGPUUnavailableError extends Error {
  override readonly name = 'WebGPUUnavailableError';
  constructor(
    readonly reason: WebGPUUnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Plain, structured-cloneable description of the adapter (crosses the worker boundary). */
export interface AdapterReport {
  vendor: string;
  /** e.g. "swiftshader" on the CPU-only dev/CI machines. */
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters such as SwiftShader: expect CPU speed. */
  isFallbackAdapter: boolean;
  /** Subgroup sizes when the "subgroups" feature exists (SwiftShader: 4). */
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  /** Every feature the adapter supports, sorted. */
  features: string[];
  /** Features actually enabled on the device we created (subset of `features`). */
  deviceFeatures: string[];
  /** Adapter limits by name (e.g. maxStorageBufferBindingSize). */
  limits: Record<string, number>;
}

export interface RequestDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Features to enable when the adapter has them (missing ones are skipped, not an error).
   * Kernels must still work without them: SwiftShader has no shader-f16.
   */
  optionalFeatures?: GPUFeatureName[];
  /** Device label, shows up in WebGPU validation messages. */
  label?: string;
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: AdapterReport;
}

/** Limits raised from the WebGPU defaults to whatever the adapter allows: weights live in big storage buffers. */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

const DEFAULT_OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/**
 * Request an adapter and a device from `gpu`.
 * Throws WebGPUUnavailableError (with a reason) when any step fails; never returns a half state.
 */
export async function requestDevice(
  gpu: GPU | undefined,
  options: RequestDeviceOptions = {},
): Promise<AcquiredDevice> {
  if (!gpu) {
    throw new WebGPUUnavailableError(
      'no-navigator-gpu',
      'WebGPU is not available here: navigator.gpu is missing (browser without WebGPU, or not a secure context).',
    );
  }

  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(
      options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
    );
  } catch (err) {
    throw new WebGPUUnavailableError(
      'request-adapter-failed',
      `requestAdapter() failed: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  if (!adapter) {
    throw new WebGPUUnavailableError(
      'no-adapter',
      'WebGPU is present but no adapter is available (GPU blocklisted or disabled; on Linux Chrome may need --enable-unsafe-webgpu).',
    );
  }

  const wanted = options.optionalFeatures ?? DEFAULT_OPTIONAL_FEATURES;
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: options.label ?? 'quicksilver',
      requiredFeatures,
      requiredLimits,
    });
  } catch (err) {
    throw new WebGPUUnavailableError(
      'request-device-failed',
      `requestDevice() failed: ${errorMessage(err)}`,
      { cause: err },
    );
  }

  return { adapter, device, info: describeAdapter(adapter, device) };
}

/** Build the plain-object report; tolerant of older implementations (isFallbackAdapter on the adapter). */
export function describeAdapter(adapter: GPUAdapter, device?: GPUDevice): AdapterReport {
  const info = adapter.info as Partial<GPUAdapterInfo> | undefined;
  const legacyFallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const report: AdapterReport = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(info?.isFallbackAdapter ?? legacyFallback ?? false),
    features: [...adapter.features].map(String).sort(),
    deviceFeatures: device ? [...device.features].map(String).sort() : [],
    limits: limitsToRecord(adapter.limits),
  };
  if (typeof info?.subgroupMinSize === 'number') report.subgroupMinSize = info.subgroupMinSize;
  if (typeof info?.subgroupMaxSize === 'number') report.subgroupMaxSize = info.subgroupMaxSize;
  return report;
}

/**
 * GPUSupportedLimits exposes its values as prototype getters, so JSON/structured clone see `{}`.
 * Enumerate them (for-in walks the prototype) and keep the numeric ones.
 */
export function limitsToRecord(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key in limits) {
    const value = (limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
