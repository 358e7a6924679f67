// Recording and submitting GPU work without per-step allocations.
//
// BufferPool: named buffers, created on first request and reused by every later step.
// Recorder:   one command encoder + compute pass per step. Each dispatch site has a string key;
//             the key owns a 256-byte slot in one uniform "params arena" and a bind group, both
//             created once. A step writes the parameters of all its dispatches into a CPU mirror
//             of the arena and uploads the used range with one writeBuffer at submit.
// Counters:   dispatches, readbacks and bytes read back (EngineCounters).

import type { EngineCounters } from './types';

export function newCounters(): EngineCounters {
  return { forwards: 0, dispatches: 0, readbacks: 0, bytesReadBack: 0 };
}

/** The bits of an f32, for writing float fields of a params struct as u32 words. */
export function f32bits(x: number): number {
  F32[0] = x;
  return U32[0];
}
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

export const STORAGE = 0x80 | 0x08 | 0x04; // GPUBufferUsage.STORAGE | COPY_DST | COPY_SRC
const UNIFORM_COPY_DST = 0x40 | 0x08;       // GPUBufferUsage.UNIFORM | COPY_DST
const MAP_READ_COPY_DST = 0x01 | 0x08;      // GPUBufferUsage.MAP_READ | COPY_DST
const MAP_READ = 0x1;                       // GPUMapMode.READ

export class BufferPool {
  /** Buffers created so far (a steady-state step must not change this). */
  allocations = 0;
  /** Bytes currently held. */
  bytes = 0;
  private readonly buffers = new Map<string, GPUBuffer>();

  constructor(readonly device: GPUDevice) {}

  /** The buffer named `name` with at least `size` bytes (replaced by a larger one if too small). */
  get(name: string, size: number, usage: GPUBufferUsageFlags = STORAGE): GPUBuffer {
    const have = this.buffers.get(name);
    if (have && have.size >= size) return have;
    if (have) {
      this.bytes -= have.size;
      have.destroy();
    }
    const b = this.device.createBuffer({ label: name, size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    this.buffers.set(name, b);
    this.allocations++;
    this.bytes += b.size;
    return b;
  }

  /** A storage buffer holding `data` (written now). */
  upload(name: string, data: ArrayBufferView): GPUBuffer {
    const b = this.get(name, data.byteLength);
    writeBufferPadded(this.device, b, 0, data);
    return b;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
    this.bytes = 0;
  }
}

/** queue.writeBuffer needs a multiple of 4 bytes; pad a copy when the data is not. */
export function writeBufferPadded(device: GPUDevice, buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength % 4 === 0) {
    device.queue.writeBuffer(buffer, offset, bytes);
  } else {
    const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
    padded.set(bytes);
    device.queue.writeBuffer(buffer, offset, padded);
  }
}

const SLOT_BYTES = 256;   // >= minUniformBufferOffsetAlignment on every adapter
const PARAM_BYTES = 32;   // largest params struct (8 words)

interface Site {
  slot: number;
  pipeline: GPUComputePipeline;
  buffers: GPUBuffer[];
  bindGroup: GPUBindGroup;
}

export class Recorder {
  readonly counters: EngineCounters;
  /** Bind groups created so far (a steady-state step must not change this). */
  bindGroupsCreated = 0;
  /** Push a validation error scope around each step and throw on errors (tests). */
  validate = false;

  private readonly arena: GPUBuffer;
  private readonly mirror: Uint32Array;
  private readonly sites = new Map<string, Site>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private usedThisStep = new Set<string>();
  private dirtyLo = Infinity;
  private dirtyHi = -1;
  private readonly maxWorkgroups: number;
  /**
   * Profiling (benchmarks): when set before begin(), every dispatch gets its own compute pass with
   * timestamp writes, and finish() fills `profile` with the device time of each dispatch site.
   * Needs the 'timestamp-query' feature.
   */
  profiling = false;
  profile: { key: string; ms: number }[] = [];
  private querySet: GPUQuerySet | null = null;
  private profileKeys: string[] = [];

  constructor(readonly device: GPUDevice, readonly pool: BufferPool, counters?: EngineCounters, readonly maxSites = 1024) {
    this.counters = counters ?? newCounters();
    this.arena = device.createBuffer({ label: 'params-arena', size: maxSites * SLOT_BYTES, usage: UNIFORM_COPY_DST });
    this.mirror = new Uint32Array(maxSites * (SLOT_BYTES / 4));
    this.maxWorkgroups = device.limits.maxComputeWorkgroupsPerDimension;
  }

  /** Start a step: a command encoder with one open compute pass. */
  begin(): void {
    if (this.encoder) throw new Error('Recorder.begin: previous step not finished');
    if (this.validate) this.device.pushErrorScope('validation');
    this.encoder = this.device.createCommandEncoder();
    this.usedThisStep.clear();
    this.profileKeys = [];
    if (this.profiling && !this.device.features.has('timestamp-query')) throw new Error('profiling needs the timestamp-query feature');
    this.pass = this.profiling ? null : this.encoder.beginComputePass();
  }

  /**
   * Record one dispatch. `params` are the u32 words of the kernel's params struct (binding 0,
   * floats via f32bits); `buffers` are bindings 1, 2, ... in order.
   */
  dispatch(key: string, pipeline: GPUComputePipeline, params: ArrayLike<number>, buffers: GPUBuffer[], workgroups: [number, number?, number?]): void {
    if (!this.encoder) throw new Error('Recorder.dispatch outside begin/finish');
    if (this.usedThisStep.has(key)) throw new Error(`Recorder: dispatch site ${key} used twice in one step`);
    this.usedThisStep.add(key);
    const [x, y = 1, z = 1] = workgroups;
    if (x > this.maxWorkgroups || y > this.maxWorkgroups || z > this.maxWorkgroups) {
      throw new Error(`Recorder: ${key} dispatch (${x}, ${y}, ${z}) exceeds maxComputeWorkgroupsPerDimension ${this.maxWorkgroups}`);
    }
    if (params.length > PARAM_BYTES / 4) throw new Error(`Recorder: ${key} params too long`);
    const site = this.site(key, pipeline, buffers);
    this.mirror.set(params, site.slot * (SLOT_BYTES / 4));
    this.dirtyLo = Math.min(this.dirtyLo, site.slot);
    this.dirtyHi = Math.max(this.dirtyHi, site.slot);
    if (x === 0 || y === 0 || z === 0) return;
    let pass = this.pass;
    if (this.profiling) {
      const i = this.profileKeys.length;
      this.querySet ??= this.device.createQuerySet({ type: 'timestamp', count: 2 * this.maxSites });
      pass = this.encoder.beginComputePass({ timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      this.profileKeys.push(key);
    }
    pass!.setPipeline(pipeline);
    pass!.setBindGroup(0, site.bindGroup);
    pass!.dispatchWorkgroups(x, y, z);
    if (this.profiling) pass!.end();
    this.counters.dispatches++;
  }

  /** End the step: upload params, submit, and (if asked) read `size` bytes of `buffer` back. */
  async finish(read?: { buffer: GPUBuffer; offset?: number; size: number }): Promise<ArrayBuffer | undefined> {
    const encoder = this.encoder;
    if (!encoder) throw new Error('Recorder.finish without begin');
    this.pass?.end();
    this.pass = null;
    this.encoder = null;
    let times: GPUBuffer | undefined;
    const nProfiled = this.profileKeys.length;
    if (this.querySet && nProfiled > 0) {
      const resolved = this.pool.get('profile-resolve', 16 * nProfiled, 0x200 | 0x04); // QUERY_RESOLVE | COPY_SRC
      times = this.pool.get('profile-read', 16 * nProfiled, MAP_READ_COPY_DST);
      encoder.resolveQuerySet(this.querySet, 0, 2 * nProfiled, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, times, 0, 16 * nProfiled);
    }
    let staging: GPUBuffer | undefined;
    if (read && read.size > 0) {
      staging = this.pool.get('readback', read.size, MAP_READ_COPY_DST);
      encoder.copyBufferToBuffer(read.buffer, read.offset ?? 0, staging, 0, Math.ceil(read.size / 4) * 4);
    }
    if (this.dirtyHi >= 0) {
      const lo = this.dirtyLo * (SLOT_BYTES / 4);
      const hi = (this.dirtyHi + 1) * (SLOT_BYTES / 4);
      this.device.queue.writeBuffer(this.arena, lo * 4, this.mirror, lo, hi - lo);
      this.dirtyLo = Infinity;
      this.dirtyHi = -1;
    }
    this.device.queue.submit([encoder.finish()]);
    if (this.validate) {
      const err = await this.device.popErrorScope();
      if (err) throw new Error(`WebGPU validation error: ${err.message}`);
    }
    if (times) {
      await times.mapAsync(MAP_READ, 0, 16 * nProfiled);
      const t = new BigUint64Array(times.getMappedRange(0, 16 * nProfiled).slice(0));
      times.unmap();
      const keys = this.profileKeys;
      this.profile = keys.map((key, i) => ({ key, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }));
    }
    if (!staging || !read) return undefined;
    await staging.mapAsync(MAP_READ, 0, Math.ceil(read.size / 4) * 4);
    const out = staging.getMappedRange(0, Math.ceil(read.size / 4) * 4).slice(0, read.size);
    staging.unmap();
    this.counters.readbacks++;
    this.counters.bytesReadBack += read.size;
    return out;
  }

  /** Drop a step that failed while recording (nothing is submitted). */
  abort(): void {
    if (!this.encoder) return;
    try {
      this.pass?.end();
      this.encoder.finish();
    } catch {
      // an invalid encoder: nothing to clean up
    }
    this.pass = null;
    this.encoder = null;
    this.dirtyLo = Infinity;
    this.dirtyHi = -1;
    if (this.validate) void this.device.popErrorScope();
  }

  private site(key: string, pipeline: GPUComputePipeline, buffers: GPUBuffer[]): Site {
    let site = this.sites.get(key);
    if (site && site.pipeline === pipeline && site.buffers.length === buffers.length && site.buffers.every((b, i) => b === buffers[i])) {
      return site;
    }
    const slot = site ? site.slot : this.sites.size;
    if (slot >= this.maxSites) throw new Error(`Recorder: more than ${this.maxSites} dispatch sites`);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: slot * SLOT_BYTES, size: PARAM_BYTES } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const bindGroup = this.device.createBindGroup({ label: key, layout: pipeline.getBindGroupLayout(0), entries });
    this.bindGroupsCreated++;
    site = { slot, pipeline, buffers: [...buffers], bindGroup };
    this.sites.set(key, site);
    return site;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.arena.destroy();
    this.sites.clear();
  }
}
