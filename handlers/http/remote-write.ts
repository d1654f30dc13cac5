// Prometheus remote write 1.0: a protobuf WriteRequest, snappy-compressed (block format). The
// schema is small, so it is written here by hand, straight into one growing buffer, with each
// name's labels encoded once: no protobuf library, no object per sample.
//   WriteRequest { repeated TimeSeries timeseries = 1; }
//   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//   Label        { string name = 1; string value = 2; }
//   Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in ms
import { compress } from 'snappyjs';
import { RejectedSamplesError, type MetricName, type Sample } from '../../src/plugin-api.js';
import type { BodyEncoder, Naming } from './body-encoder.js';
import { hostOf } from './metric-parts.js';
import { promMetricName } from './prometheus-names.js';

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Bytes of one length-delimited field: tag, length, contents. */
function fieldLength(contentLength: number): number {
  return 1 + varintLength(contentLength) + contentLength;
}

function putVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

function putString(buf: Buffer, at: number, tag: number, s: string, bytes: number): number {
  buf[at++] = tag;
  at = putVarint(buf, at, bytes);
  return at + buf.write(s, at, 'utf8');
}

/** The encoded `labels` fields of one TimeSeries, sorted by label name as Prometheus requires. */
export function encodeLabels(labels: readonly (readonly [string, string])[]): Buffer {
  const sorted = [...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let size = 0;
  const inner = sorted.map(([k, v]) => {
    const kb = Buffer.byteLength(k);
    const vb = Buffer.byteLength(v);
    const len = fieldLength(kb) + fieldLength(vb);
    size += fieldLength(len);
    return { k, v, kb, vb, len };
  });
  const out = Buffer.alloc(size);
  let at = 0;
  for (const l of inner) {
    out[at++] = 0x0a;
    at = putVarint(out, at, l.len);
    at = putString(out, at, 0x0a, l.k, l.kb);
    at = putString(out, at, 0x12, l.v, l.vb);
  }
  return out;
}

/** The largest timestamp varint (a positive ms time fits in 7 bytes until the year 4200). */
const MAX_SAMPLE_BYTES = 1 + 8 + 1 + 10;

export class RemoteWriteBody implements BodyEncoder {
  readonly contentType = 'application/x-protobuf';
  private readonly labels = new WeakMap<MetricName, Buffer>();
  /** The uncompressed WriteRequest, reused from batch to batch and grown when one does not fit. */
  private buf = Buffer.alloc(1 << 16);

  constructor(
    private readonly naming: Naming,
    /** The label that carries sonde's instance (Prometheus keeps `instance` for its targets). */
    private readonly instanceLabel: string,
  ) {}

  private labelsOf(name: MetricName): Buffer {
    let l = this.labels.get(name);
    if (l === undefined) {
      const pairs: [string, string][] = [['__name__', promMetricName(name)]];
      const host = hostOf(this.naming.path(name), name, this.naming.host);
      if (host !== '') pairs.push(['host', host]);
      if (name.instance !== undefined && name.instance !== '') pairs.push([this.instanceLabel, name.instance]);
      l = encodeLabels(pairs);
      this.labels.set(name, l);
    }
    return l;
  }

  /** The WriteRequest before compression (for tests and the benchmark). */
  encodeRaw(batch: readonly Sample[]): Buffer {
    let at = 0;
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      if (!Number.isFinite(s.timestamp) || s.timestamp < 0) throw new RejectedSamplesError(`timestamp ${s.timestamp} cannot be written in remote write (a non-negative ms time)`);
      const labels = this.labelsOf(s.name);
      const ts = Math.floor(s.timestamp);
      const sampleLen = 1 + 8 + 1 + varintLength(ts);
      const seriesLen = labels.length + 1 + varintLength(sampleLen) + sampleLen;
      const need = 1 + varintLength(seriesLen) + seriesLen;
      if (at + need > this.buf.length) this.grow(at + need + MAX_SAMPLE_BYTES);
      const buf = this.buf;
      buf[at++] = 0x0a;
      at = putVarint(buf, at, seriesLen);
      at += labels.copy(buf, at);
      buf[at++] = 0x12;
      at = putVarint(buf, at, sampleLen);
      buf[at++] = 0x09;
      buf.writeDoubleLE(s.value, at);
      at += 8;
      buf[at++] = 0x10;
      at = putVarint(buf, at, ts);
    }
    return this.buf.subarray(0, at);
  }

  encode(batch: readonly Sample[]): Uint8Array {
    return compress(this.encodeRaw(batch));
  }

  private grow(min: number): void {
    let size = this.buf.length * 2;
    while (size < min) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next);
    this.buf = next;
  }
}
