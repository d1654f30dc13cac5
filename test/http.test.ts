// The http handler against a local HTTP(S) server (certificates made by openssl here), driven by
// the real outbox: the bodies of each format as a receiver gets them, TLS, authentication, and
// the line between retry and reject. Expected bodies are written out by hand from the formats'
// definitions (Diamond's HttpPostHandler, InfluxDB line protocol), never made by the code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import httpHandler from '../handlers/http/http.js';
import { loadConfig } from '../src/config/load-config.js';
import { NameTable, PathRenderer } from '../src/model/naming.js';
import type { MetricName, Sample } from '../src/model/sample.js';
import { makeCerts, startHttp, startServer, until, type Certs, type TestServer } from './helpers/https-server.js';

let root: string;
let certs: Certs;
const servers: TestServer[] = [];
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'sonde-http-'));
  certs = makeCerts(root);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

const T = 1_700_000_000_000;
const mn = (collector: string, segments: string[], instance?: string): MetricName => ({ collector, instance, segments });
const CPU = mn('cpu', ['total', 'user']);
const MEM = mn('memory', ['MemFree']);
const MYSQL = mn('mysql', ['Threads_connected'], 'm1');
const s = (name: MetricName, value: number, timestamp = T, precision?: number): Sample => ({ name, value, kind: 'gauge', timestamp, precision });

describe('http handler: bodies', () => {
  const batch = [s(CPU, 12.5, T, 2), s(MEM, 1024, T + 1500, 0), s(MYSQL, 3)];

  it('graphite is Diamond\'s PLAIN body: str(metric) joined with a newline', async () => {
    const srv = await server();
    const h = startHttp({ url: `${srv.url}/metrics`, format: 'graphite' });
    h.push(batch);
    expect(await h.stop()).toEqual([]);
    expect(srv.received).toHaveLength(1);
    expect(srv.received[0]!.body.toString()).toBe('servers.h1.cpu.total.user 12.50 1700000000\n\nservers.h1.memory.MemFree 1024 1700000001\n\nservers.h1.mysql.m1.Threads_connected 3 1700000000\n');
    expect(srv.received[0]!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(srv.received[0]!.url).toBe('/metrics');
  });

  it('diamond_json is Diamond\'s JSON body, as Python\'s json.dumps writes it', async () => {
    const srv = await server();
    const h = startHttp({ url: srv.url, format: 'diamond_json' });
    h.push(batch);
    expect(await h.stop()).toEqual([]);
    expect(srv.received[0]!.body.toString()).toBe(
      '{"metric": [{"path": "servers.h1.cpu.total.user", "value": 12.5, "timestamp": 1700000000, "precision": 2, "host": "h1", "ttl": null}, ' +
        '{"path": "servers.h1.memory.MemFree", "value": 1024, "timestamp": 1700000001, "precision": 0, "host": "h1", "ttl": null}, ' +
        '{"path": "servers.h1.mysql.m1.Threads_connected", "value": 3, "timestamp": 1700000000, "precision": null, "host": "h1", "ttl": null}]}',
    );
    expect(srv.received[0]!.headers['content-type']).toBe('application/json');
  });

  it('json is sonde\'s own schema: path, structured name, kind, value, timestamp in ms', async () => {
    const srv = await server();
    const h = startHttp({ url: srv.url });
    h.push([s(MYSQL, -0.25, T + 7), { ...s(CPU, 5), kind: 'rate' }]);
    expect(await h.stop()).toEqual([]);
    expect(JSON.parse(srv.received[0]!.body.toString())).toEqual([
      { path: 'servers.h1.mysql.m1.Threads_connected', host: 'h1', collector: 'mysql', instance: 'm1', segments: ['Threads_connected'], kind: 'gauge', value: -0.25, timestamp_ms: T + 7 },
      { path: 'servers.h1.cpu.total.user', host: 'h1', collector: 'cpu', instance: null, segments: ['total', 'user'], kind: 'rate', value: 5, timestamp_ms: T },
    ]);
  });

  it('influx is line protocol with its escaping, every value a float, precision=s added to the URL', async () => {
    const srv = await server();
    const h = startHttp({ url: `${srv.url}/write?db=sonde`, format: 'influx', host: 'web 1' });
    h.push([s(mn('my sql', ['a=b', 'c,d'], 'x, y=z\\'), 2), s(CPU, 1e21, T + 999), s(MEM, 7)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received[0]!.url).toBe('/write?db=sonde&precision=s');
    expect(srv.received[0]!.body.toString()).toBe(
      'my\\ sql,host=web\\ 1,instance=x\\,\\ y\\=z\\\\ a\\=b.c\\,d=2 1700000000\n' + 'cpu,host=web\\ 1 total.user=1e+21 1700000000\n' + 'memory,host=web\\ 1 MemFree=7 1700000000\n',
    );
  });

  it('influx keeps a precision the URL sets and writes timestamps in that unit', async () => {
    const srv = await server();
    const h = startHttp({ url: `${srv.url}/write?db=x&precision=ms`, format: 'influx' });
    h.push([s(CPU, 1, T + 5)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received[0]!.url).toBe('/write?db=x&precision=ms');
    expect(srv.received[0]!.body.toString()).toBe('cpu,host=h1 total.user=1 1700000000005\n');
  });

  it("the host tag is the agent's host, wherever it sits in the path (a dotted path_prefix, a path_suffix)", async () => {
    const srv = await server();
    const h = startHttp({ url: `${srv.url}/write?db=x`, format: 'influx' }, {}, new PathRenderer({ prefix: 'dc1.servers', host: 'web9', suffix: 'prod' }));
    h.push([s(CPU, 1)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received[0]!.body.toString()).toBe('cpu,host=web9 total.user=1 1700000000\n');
  });

  it('gzip bodies decode to the same text for json, diamond_json and graphite', async () => {
    for (const [format, expected] of [
      ['json', '[{"path":"servers.h1.memory.MemFree","host":"h1","collector":"memory","instance":null,"segments":["MemFree"],"kind":"gauge","value":1024,"timestamp_ms":1700000000000}]'],
      ['diamond_json', '{"metric": [{"path": "servers.h1.memory.MemFree", "value": 1024, "timestamp": 1700000000, "precision": null, "host": "h1", "ttl": null}]}'],
      ['graphite', 'servers.h1.memory.MemFree 1024 1700000000\n'],
    ] as const) {
      const srv = await server();
      const h = startHttp({ url: srv.url, format, content_encoding: 'gzip' });
      h.push([s(MEM, 1024)]);
      expect(await h.stop()).toEqual([]);
      const r = srv.received[0]!;
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      expect(r.body.toString()).toBe(expected);
    }
  });

  it('values a format cannot carry are dropped alone, the rest of the batch is sent', async () => {
    const srv = await server();
    const h = startHttp({ url: srv.url, format: 'influx' });
    h.push([s(CPU, 1), s(MEM, Number.NaN), s(CPU, 2, T + 1000), s(mn('cpu', ['a'], 'bad\nname'), 3)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received.map((r) => r.body.toString()).join('')).toBe('cpu,host=h1 total.user=1 1700000000\ncpu,host=h1 total.user=2 1700000001\n');
    expect(h.outbox.stats.dropped).toBe(2);
  });
});

describe('http handler: TLS and authentication', () => {
  it('verifies the server with ca_file and presents the client certificate', async () => {
    const srv = await server({ certs, requireClientCert: true });
    const h = startHttp({ url: srv.url, tls: { ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey } });
    h.push([s(MEM, 1)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received).toHaveLength(1);
    expect(srv.received[0]!.clientCN).toBe('sonde test client');
  });

  it('a server certificate the CA did not sign is refused with a message naming ca_file, and retried', async () => {
    const srv = await server({ certs });
    const h = startHttp({ url: srv.url, tls: { ca_file: certs.wrongCa } });
    h.push([s(MEM, 1)]);
    await until('a failed send', () => h.failures.length > 0);
    expect(await h.stop(300)).toHaveLength(1);
    expect(srv.received).toHaveLength(0);
    expect(h.failures[0]!.message).toMatch(new RegExp(`^POST https://127\\.0\\.0\\.1:\\d+/ failed: the server's certificate is not signed by the CA in tls\\.ca_file \\(${certs.wrongCa.replace(/[.]/g, '\\.')}\\) \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE): .*\\); set tls\\.ca_file to the CA that signed it$`));
  });

  it('a server that wants a client certificate and gets none: the message says to set cert_file', async () => {
    const srv = await server({ certs, requireClientCert: true });
    const h = startHttp({ url: srv.url, tls: { ca_file: certs.ca } });
    h.push([s(MEM, 1)]);
    await until('a failed send', () => h.failures.length > 0);
    await h.stop(300);
    expect(h.failures[0]!.message).toMatch(/^POST https:\/\/127\.0\.0\.1:\d+\/ failed: the server refused the handshake \(TLS alert "certificate required"\), most likely the client certificate; check tls\.cert_file and tls\.key_file \(none is set\)$/);
  });

  it('insecure_skip_verify accepts any certificate', async () => {
    const srv = await server({ certs });
    const h = startHttp({ url: srv.url, tls: { insecure_skip_verify: true } });
    h.push([s(MEM, 1)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received).toHaveLength(1);
  });

  it('sends basic auth and bearer token headers, and extra headers', async () => {
    const srv = await server();
    const a = startHttp({ url: srv.url, basic_auth: { username: 'sonde', password: 'pa:ss wörd' }, headers: { 'X-Team': 'ops' } });
    a.push([s(MEM, 1)]);
    await a.stop();
    const b = startHttp({ url: srv.url, bearer_token: 'tok.123-secret' });
    b.push([s(MEM, 1)]);
    await b.stop();
    expect(srv.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('sonde:pa:ss wörd').toString('base64')}`);
    expect(srv.received[0]!.headers['x-team']).toBe('ops');
    expect(srv.received[1]!.headers.authorization).toBe('Bearer tok.123-secret');
  });

  it('reads password_file and bearer_token_file through the config loader, and never shows a secret in a message', async () => {
    const srv = await server((() => ({}))() as never, (r) => ({ status: 401, body: `bad credentials: ${String(r.headers.authorization)}` }));
    const dir = mkdtempSync(path.join(root, 'cfg-'));
    writeFileSync(path.join(dir, 'token'), 'sekrit-token-42\n');
    writeFileSync(path.join(dir, 'pass'), 'hunter2-pass\n');
    writeFileSync(
      path.join(dir, 'sonde.yaml'),
      `handlers:\n  a:\n    type: http\n    url: ${srv.url}/w?u=x&p=query-secret\n    bearer_token_file: ${dir}/token\n  b:\n    type: http\n    url: ${srv.url}\n    basic_auth: { username: sonde, password_file: ${dir}/pass }\ncollectors: {}\n`,
    );
    const { config } = await loadConfig(path.join(dir, 'sonde.yaml'), {});
    const a = config.handlers.find((x) => x.key === 'a')!.config;
    const b = config.handlers.find((x) => x.key === 'b')!.config;
    expect(a.bearer_token).toBe('sekrit-token-42');
    expect((b.basic_auth as { password: string }).password).toBe('hunter2-pass');
    for (const cfg of [a, b]) {
      const h = startHttp(cfg);
      h.push([s(MEM, 1)]);
      await until('a rejection', () => h.rejections.length > 0);
      await h.stop();
      const text = h.rejections.map((r) => r.reason).join('\n');
      expect(text).toMatch(/answered 401 Unauthorized: "bad credentials: (Bearer|Basic) <redacted>".*check basic_auth, bearer_token and headers/);
      for (const secret of ['sekrit-token-42', 'hunter2-pass', 'query-secret', Buffer.from('sonde:hunter2-pass').toString('base64')]) expect(text).not.toContain(secret);
    }
  });
});

describe('http handler: retry and reject', () => {
  it('a 400 for one batch: that batch is counted as dropped after one request, the next batches are delivered', async () => {
    const srv = await server({}, (_r, i) => (i === 1 ? { status: 400, body: '{"error":"unable to parse"}' } : { status: 204 }));
    const h = startHttp({ url: srv.url, format: 'graphite' }, { batchSize: 100 });
    const names = new NameTable('r');
    const all = Array.from({ length: 400 }, (_, i) => s(names.get(['m', String(i)]), i));
    h.push(all);
    expect(await h.stop()).toEqual([]);
    // One request per batch: the refused one is not sent again, nor in halves.
    expect(srv.received).toHaveLength(4);
    expect(h.outbox.stats.dropped).toBe(100);
    expect(h.outbox.stats.rejected).toBe(100);
    expect(h.rejections).toEqual([{ count: 100, reason: expect.stringMatching(/answered 400 Bad Request: "\{\\"error\\":\\"unable to parse\\"\}"; the upstream will never take this batch of 100 samples/) }]);
    const got = srv.received.filter((_r, i) => i !== 1).flatMap((r) => r.body.toString().split('\n').filter(Boolean));
    expect(got.map((l) => Number(l.split(' ')[1]))).toEqual([...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 200 }, (_, i) => 200 + i)]);
  });

  it('a server that never answers: send_timeout fires, the batch is sent again', async () => {
    const srv = await server({}, (_r, i) => (i === 0 ? undefined : { status: 200 }));
    const h = startHttp({ url: srv.url, format: 'graphite' }, { sendTimeout: 400 });
    const t0 = Date.now();
    h.push([s(MEM, 1)]);
    await until('the second request', () => srv.received.length >= 2);
    expect(await h.stop()).toEqual([]);
    expect(srv.received[1]!.at - t0).toBeGreaterThanOrEqual(400);
    expect(h.failures[0]!.message).toBe('send took longer than send_timeout (400 ms)');
    expect(srv.received[1]!.body.toString()).toBe(srv.received[0]!.body.toString());
  });

  it('honours Retry-After: 3 on a 429', async () => {
    const srv = await server({}, (_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '3' }, body: 'slow down' } : { status: 204 }));
    const h = startHttp({ url: srv.url, format: 'graphite' }, { retryMin: 50, retryMax: 100, sendTimeout: 10_000 });
    h.push([s(MEM, 1)]);
    await until('the second request', () => srv.received.length >= 2, 8000);
    expect(await h.stop()).toEqual([]);
    expect(srv.received[1]!.at - srv.received[0]!.at).toBeGreaterThanOrEqual(2990);
    expect(srv.received[1]!.at - srv.received[0]!.at).toBeLessThan(4000);
    expect(h.failures[0]!.message).toMatch(/answered 429 Too Many Requests: "slow down"; the batch is sent again later \(not before 3 s, as its Retry-After asks\)$/);
  });

  it('connection refused is retried with a message naming the URL', async () => {
    const srv = await server();
    const url = srv.url;
    await srv.stop();
    servers.pop();
    const h = startHttp({ url: `${url}/x?db=a`, format: 'influx' });
    h.push([s(MEM, 1)]);
    await until('a failed send', () => h.failures.length > 0);
    expect(await h.stop(200)).toHaveLength(1);
    expect(h.failures[0]!.message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/x failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('keeps the connection alive between batches', async () => {
    const srv = await server();
    const h = startHttp({ url: srv.url }, { batchSize: 1 });
    h.push([s(MEM, 1), s(MEM, 2), s(MEM, 3)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received.map((r) => r.onConnection)).toEqual([1, 2, 3]);
    expect(srv.connections()).toBe(1);
  });

  it('InfluxDB\'s partial write counts only the refused points', async () => {
    const srv = await server({}, () => ({ status: 400, body: '{"error":"partial write: field type conflict: input field \\"v\\" on measurement \\"m\\" is type float, already exists as type integer dropped=2"}' }));
    const h = startHttp({ url: srv.url, format: 'influx' });
    h.push([s(CPU, 1), s(MEM, 2), s(CPU, 3, T + 1000), s(MEM, 4, T + 1000), s(CPU, 5, T + 2000)]);
    expect(await h.stop()).toEqual([]);
    expect(srv.received).toHaveLength(1);
    expect(h.outbox.stats.dropped).toBe(2);
    expect(h.outbox.stats.sent).toBe(3);
  });
});

describe('http handler config', () => {
  const problems = (config: Record<string, unknown>) => {
    const r = httpHandler.schema.safeParse(config);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  it('refuses absurd values with the key and what it expected', () => {
    expect(problems({})[0]).toMatch(/^url: /);
    expect(problems({ url: 'ftp://x/' })).toEqual(['url: expected an http:// or https:// URL, got the scheme ftp:']);
    expect(problems({ url: 'not a url' })).toEqual(['url: expected an http:// or https:// URL, got "not a url"']);
    expect(problems({ url: 'http://x/write?precision=days' })).toEqual(['url: precision=days in the URL is not one InfluxDB takes (s, ms, u, n)']);
    expect(problems({ url: 'http://x/', instance_label: 'instance' })[0]).toMatch(/^instance_label: "instance" is what Prometheus sets/);
    expect(problems({ url: 'http://x/', instance_label: '__x' })[0]).toMatch(/^instance_label: "__x" begins with "__"/);
    expect(problems({ url: 'http://x/', instance_label: 'a-b' })[0]).toMatch(/^instance_label: "a-b" is not a Prometheus label name/);
    expect(problems({ url: 'http://x/', headers: { 'Content-Length': '5' } })).toEqual(['headers.Content-Length: sonde sets Content-Length itself; remove it from headers']);
    expect(problems({ url: 'http://x/', headers: { 'X-A': 'a\r\nX-B: b' } })).toEqual(['headers.X-A: a header value cannot hold a line break']);
    expect(problems({ url: 'http://x/', bearer_token: 't', basic_auth: { username: 'u' } })).toEqual(['bearer_token: set either basic_auth or bearer_token, not both']);
    expect(problems({ url: 'http://x/', tls: { cert_file: '/a' } })).toEqual(['tls: tls.cert_file and tls.key_file go together: set both or neither']);
    expect(problems({ url: 'http://x/', format: 'xml' })[0]).toMatch(/^format: /);
  });

  it('a tls file that cannot be read stops the handler with the key and the file', async () => {
    const h = startHttp({ url: 'https://127.0.0.1:1/', tls: { ca_file: path.join(root, 'missing.pem') } });
    h.push([s(MEM, 1)]);
    await until('a failed send', () => h.failures.length > 0);
    await h.stop(100);
    expect(h.failures[0]!.message).toBe(`http: cannot read tls.ca_file ${path.join(root, 'missing.pem')}: no such file; nothing is sent until it can be read`);
  });
});
