// Diamond's HttpPostHandler body in its JSON format: Python's json.dumps of
// {"metric": [{path, value, timestamp, precision, host, ttl}]}, with json.dumps' default ", " and
// ": " separators. sonde has no ttl (null); a sample without a precision has null there.
import { RejectedSamplesError, type MetricName, type Sample } from '../../src/plugin-api.js';
import type { BodyEncoder, Naming } from './body-encoder.js';
import { ByteWriter } from './byte-writer.js';
import { hostOf } from './metric-parts.js';

export class DiamondJsonBody implements BodyEncoder {
  readonly contentType = 'application/json';
  /** `{"path": "…", "value": ` for each name: the part of an entry that never changes. */
  private readonly heads = new WeakMap<MetricName, Buffer>();
  /** `, "host": "…", "ttl": null}` likewise. */
  private readonly tails = new WeakMap<MetricName, Buffer>();
  private readonly out = new ByteWriter();

  constructor(private readonly naming: Naming) {}

  private head(name: MetricName): Buffer {
    let h = this.heads.get(name);
    if (h === undefined) {
      const path = this.naming.path(name);
      h = Buffer.from(`{"path": ${JSON.stringify(path)}, "value": `, 'utf8');
      this.heads.set(name, h);
      this.tails.set(name, Buffer.from(`, "host": ${JSON.stringify(hostOf(path, name, this.naming.host))}, "ttl": null}`, 'utf8'));
    }
    return h;
  }

  encode(batch: readonly Sample[]): Buffer {
    const out = this.out;
    out.reset();
    out.ascii('{"metric": [');
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      if (!Number.isFinite(s.value)) throw new RejectedSamplesError(`value ${s.value} is not a finite number; JSON has no way to write it`);
      if (!Number.isFinite(s.timestamp)) throw new RejectedSamplesError(`timestamp ${s.timestamp} is not a finite number`);
      if (i > 0) out.ascii(', ');
      out.bytes(this.head(s.name));
      out.ascii(`${Object.is(s.value, -0) ? 0 : s.value}, "timestamp": ${Math.floor(s.timestamp / 1000)}, "precision": ${s.precision ?? 'null'}`);
      out.bytes(this.tails.get(s.name)!);
    }
    out.ascii(']}');
    return out.result();
  }
}
