// A fault-injecting HTTP proxy in front of the e2e server (vite preview on 4319), for the
// "Faults tried" specs: the page is opened on the proxy's own origin (http://localhost:<port>),
// so the page, its engine worker and its service worker all reach the network through it.
// Faults are set per path: cut the connection after N bytes of the body (headers, Content-Length
// included, go out as they were), or answer with another status/body/content type.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'cut'; afterBytes: number }
  | { kind: 'replace'; status: number; contentType: string; body: string };

interface Rule {
  path: string;
  fault: Fault;
  /** How many more requests it applies to. */
  left: number;
}

export interface Hit {
  path: string;
  /** The fault applied to this request, if any. */
  fault: Fault['kind'] | null;
  range: string | null;
}

export class FaultProxy {
  readonly hits: Hit[] = [];
  private rules: Rule[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
  ) {}

  static async start(target = 'http://localhost:4319'): Promise<FaultProxy> {
    const upstream = new URL(target);
    let proxy: FaultProxy | null = null;
    const server = http.createServer((req, res) => proxy!.handle(req, res, upstream));
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new FaultProxy(server, `http://localhost:${port}`);
    return proxy;
  }

  /** Apply `fault` to the next `times` requests of `path` (pathname, no query). */
  fault(path: string, fault: Fault, times = 1): void {
    this.rules.push({ path, fault, left: times });
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** Requests for `path` seen so far. */
  count(path: string): number {
    return this.hits.filter((h) => h.path === path).length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, upstream: URL): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const rule = this.rules.find((r) => r.path === path && r.left > 0);
    if (rule) rule.left--;
    this.hits.push({ path, fault: rule?.fault.kind ?? null, range: (req.headers.range as string | undefined) ?? null });
    const fault = rule?.fault;
    if (fault?.kind === 'replace') {
      res.writeHead(fault.status, {
        'content-type': fault.contentType,
        'content-length': Buffer.byteLength(fault.body),
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(fault.body);
      return;
    }
    const up = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (fault?.kind !== 'cut') {
          upRes.pipe(res);
          return;
        }
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= fault.afterBytes) return;
          const part = chunk.subarray(0, fault.afterBytes - sent);
          sent += part.length;
          res.write(part);
          if (sent >= fault.afterBytes) {
            // The connection drops mid-body, as a flaky network does.
            upRes.destroy();
            setTimeout(() => res.socket?.destroy(), 50);
          }
        });
      },
    );
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  }
}
