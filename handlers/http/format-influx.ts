// InfluxDB line protocol: measurement from the collector, `host` and `instance` as tags, one field
// per leaf (the path below the collector and instance), every value a float so that a field never
// changes type. One line per sample; the timestamp in the unit the URL's `precision` names.
import { RejectedSamplesError, type MetricName, type Sample } from '../../src/plugin-api.js';
import type { BodyEncoder, Naming } from './body-encoder.js';
import { escapeKey, escapeMeasurement, hasNewline } from './influx-escape.js';
import { hostOf } from './metric-parts.js';

export type InfluxPrecision = 's' | 'ms' | 'u' | 'n';

/** The precision values InfluxDB 1.x takes in `?precision=`, mapped to what this encoder writes. */
export function influxPrecision(p: string): InfluxPrecision | undefined {
  if (p === 's' || p === 'ms' || p === 'u' || p === 'n') return p;
  if (p === 'us' || p === 'µ') return 'u';
  if (p === 'ns') return 'n';
  return undefined;
}

export class InfluxBody implements BodyEncoder {
  readonly contentType = 'text/plain; charset=utf-8';
  /** `measurement,host=…,instance=… field=` per name; `null` for a name line protocol cannot hold. */
  private readonly heads = new WeakMap<MetricName, string | null>();

  constructor(
    private readonly naming: Naming,
    private readonly precision: InfluxPrecision,
  ) {}

  private head(name: MetricName): string | null {
    let h = this.heads.get(name);
    if (h === undefined) {
      // The logs collector has no collector path: its first segment names the measurement then.
      const measurement = name.collector !== '' ? name.collector : (name.segments[0] ?? '_');
      const leaf = name.collector !== '' ? name.segments : name.segments.slice(1);
      const field = leaf.length > 0 ? leaf.join('.') : 'value';
      const host = hostOf(this.naming.path(name), name, this.naming.host);
      const parts = [measurement, field, host, name.instance ?? ''];
      if (parts.some(hasNewline)) h = null;
      else {
        h = escapeMeasurement(measurement);
        // InfluxDB drops a tag with an empty value: leave it out instead.
        if (host !== '') h += `,host=${escapeKey(host)}`;
        if (name.instance !== undefined && name.instance !== '') h += `,instance=${escapeKey(name.instance)}`;
        h += ` ${escapeKey(field)}=`;
      }
      this.heads.set(name, h);
    }
    return h;
  }

  encode(batch: readonly Sample[]): string {
    let out = '';
    const unit = this.precision;
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      if (!Number.isFinite(s.value)) throw new RejectedSamplesError(`value ${s.value} is not a finite number; InfluxDB line protocol has no way to write it`);
      if (!Number.isFinite(s.timestamp)) throw new RejectedSamplesError(`timestamp ${s.timestamp} is not a finite number`);
      const head = this.head(s.name);
      if (head === null) throw new RejectedSamplesError('its name holds a line break, which InfluxDB line protocol cannot escape');
      const ms = Math.floor(s.timestamp);
      // Digits appended rather than multiplied: ms × 10^6 is past what a double holds exactly.
      const ts = unit === 's' ? Math.floor(ms / 1000) : unit === 'ms' ? ms : unit === 'u' ? `${ms}000` : `${ms}000000`;
      out += `${head}${Object.is(s.value, -0) ? 0 : s.value} ${ts}\n`;
    }
    return out;
  }
}
