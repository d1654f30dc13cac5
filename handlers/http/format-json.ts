// sonde's own JSON body: an array with one object per sample, carrying the rendered path and the
// structured name (host, collector, instance, segments) so a receiver needs no path parsing.
import { RejectedSamplesError, type MetricName, type Sample } from '../../src/plugin-api.js';
import type { BodyEncoder, Naming } from './body-encoder.js';
import { ByteWriter } from './byte-writer.js';
import { hostOf } from './metric-parts.js';

export class JsonBody implements BodyEncoder {
  readonly contentType = 'application/json';
  /** Everything of an entry up to its kind, once per name. */
  private readonly heads = new WeakMap<MetricName, Buffer>();
  private readonly out = new ByteWriter();

  constructor(private readonly naming: Naming) {}

  private head(name: MetricName): Buffer {
    let h = this.heads.get(name);
    if (h === undefined) {
      const path = this.naming.path(name);
      const instance = name.instance === undefined ? 'null' : JSON.stringify(name.instance);
      h = Buffer.from(`{"path":${JSON.stringify(path)},"host":${JSON.stringify(hostOf(path, name, this.naming.host))},"collector":${JSON.stringify(name.collector)},"instance":${instance},"segments":${JSON.stringify(name.segments)},"kind":"`, 'utf8');
      this.heads.set(name, h);
    }
    return h;
  }

  encode(batch: readonly Sample[]): Buffer {
    const out = this.out;
    out.reset();
    out.ascii('[');
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      if (!Number.isFinite(s.value)) throw new RejectedSamplesError(`value ${s.value} is not a finite number; JSON has no way to write it`);
      if (!Number.isFinite(s.timestamp)) throw new RejectedSamplesError(`timestamp ${s.timestamp} is not a finite number`);
      if (i > 0) out.ascii(',');
      out.bytes(this.head(s.name));
      out.ascii(`${s.kind}","value":${Object.is(s.value, -0) ? 0 : s.value},"timestamp_ms":${Math.floor(s.timestamp)}}`);
    }
    out.ascii(']');
    return out.result();
  }
}
