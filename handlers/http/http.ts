// http: samples POSTed to an HTTP(S) endpoint, in Diamond's HttpPostHandler bodies (graphite,
// diamond_json), sonde's own json, InfluxDB line protocol or Prometheus remote write. Keep-alive
// connections; the deadline is the outbox's send_timeout, through the signal. A 2xx is accepted;
// 408, 429, 5xx and network errors are retried by the outbox; any other 4xx drops the batch
// (counted in sonde.handler.<name>.dropped) so that it never blocks the queue. See docs/compat.md.
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { defineHandler, RejectedSamplesError, z, type Sample } from '../../src/plugin-api.js';
import type { BodyEncoder, Naming } from './body-encoder.js';
import { DiamondJsonBody } from './format-diamond-json.js';
import { GraphiteBody } from './format-graphite.js';
import { InfluxBody, influxPrecision } from './format-influx.js';
import { JsonBody } from './format-json.js';
import { instanceLabelProblem } from './prometheus-names.js';
import { RemoteWriteBody } from './remote-write.js';
import { classify, influxDropped, retryAfterMs } from './response-class.js';
import { describeTlsError, tlsOptions, type TlsConfig } from './tls.js';

// Made on first use: zlib is not loaded by an agent (or a `sonde once`) that never gzips a body.
let gzipAsync: ((data: zlib.InputType) => Promise<Buffer>) | undefined;
const gzip = (data: zlib.InputType): Promise<Buffer> => (gzipAsync ??= promisify(zlib.gzip))(data);

export const FORMATS = ['json', 'diamond_json', 'graphite', 'influx', 'prometheus_remote_write'] as const;
type Format = (typeof FORMATS)[number];

/** What of a response body is kept: enough for InfluxDB's partial-write sentence; the log shows 200 bytes. */
const KEEP_BODY_BYTES = 16 * 1024;
const SHOWN_BODY_BYTES = 200;

/** Headers sonde sets itself from the body and the options; one in `headers` would contradict them. */
const OWN_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'host', 'connection']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function urlProblem(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `expected an http:// or https:// URL, got ${JSON.stringify(v)}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `expected an http:// or https:// URL, got the scheme ${u.protocol}`;
  const p = u.searchParams.get('precision');
  if (p !== null && influxPrecision(p) === undefined) return `precision=${p} in the URL is not one InfluxDB takes (s, ms, u, n)`;
  return undefined;
}

/** The section's schema, built when a config uses this handler (see SchemaSource in the plugin API). */
function configSchema() {
  return z
    .object({
      url: z
        .string()
        .superRefine((v, ctx) => {
          const p = urlProblem(v);
          if (p) ctx.addIssue({ code: 'custom', message: p });
        })
        .describe('Where batches are POSTed. influx: InfluxDB 1.x /write?db=<database> (precision=s is added unless the URL sets it); prometheus_remote_write: the receiver\'s push path, e.g. /api/v1/write.'),
      format: z
        .enum(FORMATS)
        .default('json')
        .describe('json: sonde\'s own objects; diamond_json and graphite: Diamond\'s HttpPostHandler bodies; influx: InfluxDB line protocol; prometheus_remote_write: snappy protobuf WriteRequest.'),
      content_encoding: z.enum(['identity', 'gzip']).default('identity').describe('gzip compresses the body (Content-Encoding: gzip); prometheus_remote_write is always snappy and ignores it.'),
      headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. { X-Team: ops }. For secrets use basic_auth or bearer_token (_file), not a header.'),
      basic_auth: z
        .object({
          username: z.string().min(1).describe('The user name.'),
          password: z.string().default('').describe('The password; set password_file to read it from a file.'),
        })
        .strict()
        .optional()
        .describe('HTTP basic authentication; write password_file: /path rather than the password.'),
      bearer_token: z.string().min(1).optional().describe('Sent as "Authorization: Bearer <token>"; write bearer_token_file: /path rather than the token.'),
      tls: z
        .object({
          ca_file: z.string().optional().describe('PEM file of the CA(s) that sign the server\'s certificate, in place of the system\'s.'),
          cert_file: z.string().optional().describe('PEM client certificate, for servers that ask for one (with key_file).'),
          key_file: z.string().optional().describe('PEM key of cert_file.'),
          insecure_skip_verify: z.boolean().default(false).describe('Accept any server certificate. Only for tests: anyone on the path can read and change what is sent.'),
        })
        .strict()
        .prefault({})
        .describe('TLS for https:// URLs.'),
      host: z.string().optional().describe('The host tag (influx), label (remote write) and field (json, diamond_json); by default the host segment of the metric path.'),
      instance_label: z
        .string()
        .default('sonde_instance')
        .superRefine((v, ctx) => {
          const p = instanceLabelProblem(v);
          if (p) ctx.addIssue({ code: 'custom', message: p });
        })
        .describe('prometheus_remote_write: the label that carries a collector\'s instance (Prometheus keeps "instance" and "job" for its own targets).'),
    })
    .superRefine((c, ctx) => {
      for (const name of Object.keys(c.headers)) {
        const lower = name.toLowerCase();
        if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['headers', name], message: `"${name}" is not a valid HTTP header name` });
        else if (OWN_HEADERS.has(lower)) ctx.addIssue({ code: 'custom', path: ['headers', name], message: `sonde sets ${name} itself; remove it from headers` });
        else if (lower === 'authorization' && (c.basic_auth !== undefined || c.bearer_token !== undefined)) ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'set either basic_auth, bearer_token or an Authorization header, not several' });
        if (/[\r\n]/.test(c.headers[name]!)) ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'a header value cannot hold a line break' });
      }
      if (c.basic_auth !== undefined && c.bearer_token !== undefined) ctx.addIssue({ code: 'custom', path: ['bearer_token'], message: 'set either basic_auth or bearer_token, not both' });
      if ((c.tls.cert_file === undefined) !== (c.tls.key_file === undefined)) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls.cert_file and tls.key_file go together: set both or neither' });
    });
}

type Config = z.output<ReturnType<typeof configSchema>>;

interface Reply {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
  readonly retryAfter: string | undefined;
}

interface State {
  readonly url: URL;
  /** The URL as messages show it: no user info, no query (InfluxDB 1.x takes u= and p= there). */
  readonly shown: string;
  readonly encoder: BodyEncoder;
  readonly agent: http.Agent;
  readonly request: typeof http.request;
  readonly headers: Record<string, string>;
  readonly gzip: boolean;
  /** Strings never to appear in a message (a response could echo them back). */
  readonly secrets: readonly string[];
  /** Date.now() before which no request goes: the upstream's Retry-After. */
  notBefore: number;
  /**
   * The samples of the last batch the upstream refused (and, after InfluxDB's partial write, those
   * it took). The outbox sends a refused batch again in halves to find the bad samples; these
   * answer for those pieces without a request, so a refused batch costs one request, not 2n.
   */
  refused: Set<Sample>;
  taken: Set<Sample>;
  refusal: string;
}

function encoderFor(format: Format, config: Config, url: URL, naming: Naming): BodyEncoder {
  switch (format) {
    case 'json':
      return new JsonBody(naming);
    case 'diamond_json':
      return new DiamondJsonBody(naming);
    case 'graphite':
      return new GraphiteBody(naming);
    case 'influx':
      return new InfluxBody(naming, influxPrecision(url.searchParams.get('precision') ?? 's')!);
    case 'prometheus_remote_write':
      return new RemoteWriteBody(naming, config.instance_label);
  }
}

function shownUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function redact(s: string, secrets: readonly string[]): string {
  let out = s;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('<redacted>');
  return out;
}

function excerpt(body: string, secrets: readonly string[]): string {
  const b = Buffer.from(body, 'utf8');
  let text = b.length > SHOWN_BODY_BYTES ? `${b.subarray(0, SHOWN_BODY_BYTES).toString('utf8')}…` : body;
  // One log line: control characters (a multi-line HTML page) shown as spaces.
  text = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return text === '' ? '(empty body)' : JSON.stringify(redact(text, secrets));
}

function post(state: State, body: string | Uint8Array, signal: AbortSignal, config: Config): Promise<Reply> {
  const attempt = (): Promise<Reply> =>
    new Promise<Reply>((resolve, reject) => {
      const req = state.request(state.url, {
        method: 'POST',
        agent: state.agent,
        headers: { ...state.headers, 'Content-Length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length) },
        signal,
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : err);
        // A kept-alive connection the server closed while idle: one fresh try, not a failed send.
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return reject(Object.assign(err, { stale: true }));
        const tls = describeTlsError(err, config.tls as TlsConfig);
        reject(new Error(redact(`POST ${state.shown} failed: ${tls ?? `${err.message}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}`}`, state.secrets)));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < KEEP_BODY_BYTES) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on('error', (err) => reject(new Error(redact(`POST ${state.shown}: the response broke off (${err.message})`, state.secrets))));
        res.on('end', () => {
          const ra = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8'), retryAfter: Array.isArray(ra) ? ra[0] : ra });
        });
      });
      req.end(body);
    });
  return attempt().catch((err: unknown) => ((err as { stale?: boolean }).stale ? attempt() : Promise.reject(err instanceof Error ? err : new Error(String(err)))));
}

function waitUntil(t: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, t - Date.now());
    function done(): void {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** True when every sample of `batch` is in `set`. */
function allIn(batch: readonly Sample[], set: Set<Sample>): boolean {
  for (let i = 0; i < batch.length; i++) if (!set.has(batch[i]!)) return false;
  return true;
}

/** What a status that drops the batch most likely means, for the operator. */
function rejectHint(status: number): string {
  if (status === 401 || status === 403) return 'check basic_auth, bearer_token and headers';
  if (status === 404 || status === 405) return 'check url';
  if (status === 413) return 'lower batch_size';
  return 'see the answer above';
}

export default defineHandler({
  name: 'http',
  description: 'POSTs samples to an HTTP(S) endpoint: Diamond\'s HttpPostHandler bodies, sonde\'s JSON, InfluxDB line protocol or Prometheus remote write.',
  schema: configSchema,
  outbox: { batch_size: 1000, flush_interval: '1s' },
  init(ctx): State {
    const config = ctx.config;
    const url = new URL(config.url);
    if (config.format === 'influx' && !url.searchParams.has('precision')) url.searchParams.set('precision', 's');
    const isHttps = url.protocol === 'https:';
    const agent = isHttps ? new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOptions(config.tls as TlsConfig) }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
    const encoder = encoderFor(config.format, config, url, { path: (n) => ctx.path(n), host: config.host ?? ctx.host ?? '' });
    const headers: Record<string, string> = { 'User-Agent': 'sonde', 'Content-Type': encoder.contentType, ...config.headers };
    const secrets: string[] = [];
    if (config.format === 'prometheus_remote_write') {
      headers['Content-Encoding'] = 'snappy';
      headers['X-Prometheus-Remote-Write-Version'] = '0.1.0';
    } else if (config.content_encoding === 'gzip') headers['Content-Encoding'] = 'gzip';
    if (config.basic_auth !== undefined) {
      const b64 = Buffer.from(`${config.basic_auth.username}:${config.basic_auth.password}`).toString('base64');
      headers.Authorization = `Basic ${b64}`;
      secrets.push(config.basic_auth.password, b64);
    }
    if (config.bearer_token !== undefined) {
      headers.Authorization = `Bearer ${config.bearer_token}`;
      secrets.push(config.bearer_token);
    }
    if (url.password !== '') secrets.push(decodeURIComponent(url.password));
    const p = url.searchParams.get('p');
    if (p !== null) secrets.push(p);
    return {
      url,
      shown: shownUrl(url),
      encoder,
      agent,
      request: isHttps ? https.request : http.request,
      headers,
      gzip: config.format !== 'prometheus_remote_write' && config.content_encoding === 'gzip',
      secrets,
      notBefore: 0,
      refused: new Set(),
      taken: new Set(),
      refusal: '',
    };
  },
  async send(batch, ctx) {
    const state = ctx.state;
    if (batch.length === 0) return;
    // A piece of the batch just refused, sent again by the outbox to find the bad samples.
    if (state.refused.size > 0 || state.taken.size > 0) {
      const first = batch[0]!;
      if (state.refused.has(first) || state.taken.has(first)) {
        if (allIn(batch, state.taken)) return;
        throw new RejectedSamplesError(state.refusal);
      }
      state.refused = new Set();
      state.taken = new Set();
    }
    if (Date.now() < state.notBefore) await waitUntil(state.notBefore, ctx.signal);
    const encoded = state.encoder.encode(batch);
    const body = state.gzip ? await gzip(encoded) : encoded;
    const reply = await post(state, body, ctx.signal, ctx.config);
    const verdict = classify(reply.status);
    if (verdict === 'accepted') return;
    const answer = `POST ${state.shown} answered ${reply.status}${reply.statusText ? ` ${reply.statusText}` : ''}: ${excerpt(reply.body, state.secrets)}`;
    if (verdict === 'retry') {
      const wait = reply.status === 429 || reply.status === 503 ? retryAfterMs(reply.retryAfter, Date.now()) : undefined;
      if (wait !== undefined) state.notBefore = Date.now() + wait;
      throw new Error(`${answer}; the batch is sent again later${wait !== undefined ? ` (not before ${Math.ceil(wait / 1000)} s, as its Retry-After asks)` : ''}`);
    }
    // This batch will never be taken: the outbox drops and counts it, the queue goes on.
    const dropped = ctx.config.format === 'influx' ? influxDropped(reply.body) : undefined;
    if (dropped !== undefined && dropped < batch.length) {
      // InfluxDB stored the rest: only `dropped` of them are refused (it does not say which).
      for (let i = 0; i < batch.length; i++) (i < dropped ? state.refused : state.taken).add(batch[i]!);
      state.refusal = `${answer}; InfluxDB stored the other points of the batch and refused ${dropped} (which ones is in its answer)`;
    } else {
      for (let i = 0; i < batch.length; i++) state.refused.add(batch[i]!);
      state.refusal = `${answer}; the upstream will never take this batch of ${batch.length} samples, so it is dropped (${rejectHint(reply.status)})`;
    }
    if (dropped === 0) {
      state.refused.clear();
      return;
    }
    throw new RejectedSamplesError(state.refusal);
  },
  close(ctx) {
    ctx.state?.agent.destroy();
  },
});
