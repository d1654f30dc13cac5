// What a handler's golden case writes to: listeners on 127.0.0.1 and a file, which record the bytes
// they receive for comparison with the case's expected.<sink> files.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SINK_KINDS = ['tcp', 'udp', 'http', 'file'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

/** The placeholders that make a case use each sink. */
export const SINK_PLACEHOLDERS: Readonly<Record<SinkKind, readonly string[]>> = {
  tcp: ['SINK_TCP_PORT'],
  udp: ['SINK_UDP_PORT'],
  http: ['SINK_HTTP_PORT', 'SINK_HTTP_URL'],
  file: ['SINK_FILE'],
};

export interface Sink {
  readonly kind: SinkKind;
  /** Placeholder values this sink provides. */
  readonly vars: ReadonlyMap<string, string | number>;
  /** Bytes received so far, in the form the expected.<kind> file holds. */
  received(): Buffer;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

async function tcpSink(): Promise<Sink> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((s) => {
    sockets.add(s);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    kind: 'tcp',
    vars: new Map([['SINK_TCP_PORT', port]]),
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function udpSink(): Promise<Sink> {
  const datagrams: Buffer[] = [];
  const socket: UdpSocket = createSocket('udp4');
  // Each datagram, then a newline the kit adds, so that datagram boundaries show in the file.
  socket.on('message', (d) => datagrams.push(d, Buffer.from('\n')));
  await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(0, HOST, resolve));
  const port = socket.address().port;
  return {
    kind: 'udp',
    vars: new Map([['SINK_UDP_PORT', port]]),
    received: () => Buffer.concat(datagrams),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Request headers kept in the transcript: what says how to read the body. Others (host, length, user agent) vary or repeat the body. */
const KEPT_HEADERS = ['content-type', 'content-encoding', 'x-prometheus-remote-write-version'];

async function httpSink(): Promise<Sink> {
  const requests: Buffer[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (d: Buffer) => body.push(d));
    req.on('end', () => {
      let head = `${req.method} ${req.url}\n`;
      for (const h of KEPT_HEADERS) {
        const v = req.headers[h];
        if (v !== undefined) head += `${h}: ${Array.isArray(v) ? v.join(', ') : v}\n`;
      }
      requests.push(Buffer.from(`${head}\n`), ...body, Buffer.from('\n'));
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    kind: 'http',
    vars: new Map<string, string | number>([['SINK_HTTP_PORT', port], ['SINK_HTTP_URL', `http://${HOST}:${port}`]]),
    received: () => Buffer.concat(requests),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function fileSink(): Sink {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sonde-test-sink-'));
  const file = path.join(dir, 'out');
  return {
    kind: 'file',
    vars: new Map([['SINK_FILE', file]]),
    received: () => {
      try {
        return readFileSync(file);
      } catch {
        return Buffer.alloc(0);
      }
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function startSink(kind: SinkKind): Promise<Sink> {
  switch (kind) {
    case 'tcp':
      return tcpSink();
    case 'udp':
      return udpSink();
    case 'http':
      return httpSink();
    case 'file':
      return Promise.resolve(fileSink());
  }
}

/** Placeholder values every sink offers beside its own. */
export const SINK_HOST = HOST;

/**
 * Waits until no sink has received anything new for `quietMs` (at most `maxMs`): a handler's send
 * resolves once its bytes are written, which can be before a listener has read them.
 */
export async function settle(sinks: readonly Sink[], quietMs = 100, maxMs = 5000): Promise<void> {
  const size = () => sinks.reduce((n, s) => n + s.received().length, 0);
  const start = Date.now();
  let last = size();
  let since = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 20));
    const now = size();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}
