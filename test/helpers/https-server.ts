// The http handler's test kit. A local HTTP(S) server: certificates made by openssl in the test's
// temp dir (a CA, a server certificate for 127.0.0.1, a client certificate, and a second CA that
// signed nothing), every request recorded with its body decoded, and answers the test decides;
// and the handler driven by the real outbox, its context as the core gives it.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import httpHandler from '../../handlers/http/http.js';
import type { OutboxSettings } from '../../src/config/types.js';
import type { Outbox } from '../../src/delivery/outbox.js';
import { PathRenderer } from '../../src/model/naming.js';
import type { Sample } from '../../src/model/sample.js';
import { harness } from './handler-harness.js';

export interface Certs {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed neither certificate. */
  readonly wrongCa: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the certificates in `dir` (EC P-256 keys: quick to make). */
export function makeCerts(dir: string): Certs {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=sonde test CA');
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'wrong-ca.key', '-out', 'wrong-ca.pem', '-days', '2', '-subj', '/CN=sonde wrong CA');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl(dir, 'req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=sonde test ${who}`);
    openssl(dir, 'x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`);
  }
  const p = (f: string) => path.join(dir, f);
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key'), wrongCa: p('wrong-ca.pem') };
}

export interface Received {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as sent (compressed when it was). */
  readonly raw: Buffer;
  /** The body after Content-Encoding: gzip is undone; the raw body otherwise. */
  readonly body: Buffer;
  /** The subject CN of the client certificate, when one was presented and verified. */
  readonly clientCN: string | undefined;
  /** Which request on its connection this was (1 = a new connection). */
  readonly onConnection: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Decides each answer; returning undefined never answers (the request hangs until the client gives up). */
export type Responder = (r: Received, index: number) => Answer | undefined;

export interface TestServer {
  readonly url: string;
  readonly received: Received[];
  respond: Responder;
  /** Connections opened so far. */
  readonly connections: () => number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Serve HTTPS with the server certificate; omit for plain HTTP. */
  readonly certs?: Certs;
  /** Ask for a client certificate signed by the CA and refuse the handshake without one. */
  readonly requireClientCert?: boolean;
}

export async function startServer(opts: ServerOptions = {}, respond: Responder = () => ({ status: 204 })): Promise<TestServer> {
  const received: Received[] = [];
  let connections = 0;
  const perSocket = new WeakMap<net.Socket, number>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
      const sock = req.socket;
      const n = (perSocket.get(sock) ?? 0) + 1;
      perSocket.set(sock, n);
      const tlsSock = sock as unknown as { getPeerCertificate?: () => { subject?: { CN?: string } }; authorized?: boolean };
      const cn = tlsSock.authorized ? tlsSock.getPeerCertificate?.().subject?.CN : undefined;
      const r: Received = { at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body, clientCN: cn, onConnection: n };
      received.push(r);
      const a = server.respond(r, received.length - 1);
      if (a === undefined) return;
      res.writeHead(a.status, a.headers);
      res.end(a.body ?? '');
    });
  };
  const srv = opts.certs
    ? https.createServer(
        {
          cert: readFileSync(opts.certs.serverCert),
          key: readFileSync(opts.certs.serverKey),
          ca: readFileSync(opts.certs.ca),
          requestCert: opts.requireClientCert === true,
          rejectUnauthorized: opts.requireClientCert === true,
        },
        handler,
      )
    : http.createServer(handler);
  srv.on(opts.certs ? 'secureConnection' : 'connection', () => connections++);
  srv.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  const server: TestServer = {
    url: `${opts.certs ? 'https' : 'http'}://127.0.0.1:${port}`,
    received,
    respond,
    connections: () => connections,
    stop: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
  return server;
}

// --- The handler driven by the real outbox.

export const SETTINGS: OutboxSettings = { batchSize: 1000, flushInterval: 10, queueSize: 1_000_000, sendTimeout: 5000, retryMin: 50, retryMax: 200, spool: false, spoolMaxBytes: 0, spoolMaxAge: 0, resendWindow: 0 };
export const paths = new PathRenderer({ prefix: 'servers', host: 'h1', suffix: '' });

export interface Rejection {
  readonly count: number;
  readonly reason: string;
}

export interface RunningHttp {
  push(samples: Sample[]): void;
  readonly outbox: Outbox;
  readonly failures: Error[];
  readonly rejections: Rejection[];
  readonly said: string[];
  /** Sends what is queued (within `ms`), then closes the handler; returns what could not be sent. */
  stop(ms?: number): Promise<Sample[]>;
}

export function startHttp(config: Record<string, unknown>, outbox: Partial<OutboxSettings> = {}, renderer: PathRenderer = paths): RunningHttp {
  const h = harness(httpHandler, config, { settings: { ...SETTINGS, ...outbox }, context: { path: (n) => renderer.render(n), host: renderer.host } });
  return {
    push: h.push,
    outbox: h.outbox,
    failures: h.failures,
    said: h.said,
    get rejections() {
      return h.rejected.map((r) => ({ count: r.count, reason: r.reason.message }));
    },
    stop: (ms = 10_000) => h.stop(ms),
  };
}

/** Polls until `check` holds, or fails saying what it waited for. */
export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
