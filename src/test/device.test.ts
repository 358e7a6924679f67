// requestDevice (src/engine/device.ts): each failure step maps to its reason; success on Dawn.

import { describe, expect, it } from 'vitest';
import { describeAdapter, requestDevice, WebGPUUnavailableError } from '../engine/device';
import { nodeGPU } from './nodeGpu';

/** Fake adapter with just what requestDevice/describeAdapter read. */
function fakeAdapter(requestDeviceImpl: () => Promise<GPUDevice>): GPUAdapter {
  return {
    features: new Set<string>(['subgroups']),
    limits: { maxBufferSize: 1024, maxStorageBufferBindingSize: 512 },
    info: { vendor: 'v', architecture: 'arch', device: '', description: 'fake', isFallbackAdapter: true },
    requestDevice: requestDeviceImpl,
  } as unknown as GPUAdapter;
}

function fakeGPU(requestAdapter: () => Promise<GPUAdapter | null>): GPU {
  return { requestAdapter } as unknown as GPU;
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WebGPUUnavailableError);
    return (err as WebGPUUnavailableError).reason;
  }
  throw new Error('expected a rejection');
}

describe('requestDevice failures', () => {
  it('no GPU object -> no-navigator-gpu', async () => {
    expect(await reasonOf(requestDevice(undefined))).toBe('no-navigator-gpu');
  });
  it('null adapter -> no-adapter', async () => {
    expect(await reasonOf(requestDevice(fakeGPU(async () => null)))).toBe('no-adapter');
  });
  it('requestAdapter throws -> request-adapter-failed', async () => {
    const gpu = fakeGPU(async () => {
      throw new Error('boom');
    });
    expect(await reasonOf(requestDevice(gpu))).toBe('request-adapter-failed');
  });
  it('requestDevice rejects -> request-device-failed, keeping the cause', async () => {
    const cause = new Error('limits too high');
    const gpu = fakeGPU(async () => fakeAdapter(() => Promise.reject(cause)));
    const err = await requestDevice(gpu).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebGPUUnavailableError);
    expect((err as WebGPUUnavailableError).reason).toBe('request-device-failed');
    expect((err as Error).message).toContain('limits too high');
    expect((err as Error).cause).toBe(cause);
  });
});

describe('describeAdapter', () => {
  it('reads info, features and limits into a plain object', () => {
    const report = describeAdapter(fakeAdapter(() => Promise.reject(new Error())));
    expect(report).toMatchObject({
      vendor: 'v',
      architecture: 'arch',
      isFallbackAdapter: true,
      features: ['subgroups'],
      limits: { maxBufferSize: 1024, maxStorageBufferBindingSize: 512 },
    });
    expect(structuredClone(report)).toEqual(report);
  });
});

describe('requestDevice on Dawn + SwiftShader', () => {
  it('returns a device and a cloneable report of the software adapter', async () => {
    const { device, info } = await requestDevice(nodeGPU());
    try {
      expect(info.architecture).toBe('swiftshader');
      expect(info.isFallbackAdapter).toBe(true);
      expect(info.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
      // Raised to the adapter's maximum, not left at the 128 MiB default.
      expect(device.limits.maxStorageBufferBindingSize).toBe(info.limits.maxStorageBufferBindingSize);
      expect(info.deviceFeatures.every((f) => info.features.includes(f))).toBe(true);
      expect(structuredClone(info)).toEqual(info);
    } finally {
      device.destroy();
    }
  }, 60_000);
});
