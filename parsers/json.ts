// One JSON object per line, flattened: Logster's JsonLogster.
import { defineParser, z, type ParsedMetric } from '../src/plugin-api.js';

interface Leaf {
  value: number;
  float: boolean;
}

/**
 * A small JSON reader that keeps what JSON.parse loses: whether a number was written as an int
 * (`3`) or a float (`3.0`, `1e3`), which decides how Logster prints it. Flattens while reading.
 * Returns false on invalid JSON. Strings, booleans and null are not figures: they are left out.
 */
class Flattener {
  private s = '';
  private i = 0;
  constructor(private readonly sep: string) {}

  read(text: string, into: Map<string, Leaf>): boolean {
    this.s = text;
    this.i = 0;
    try {
      this.ws();
      this.value([], into);
      this.ws();
      return this.i === this.s.length;
    } catch {
      return false;
    }
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  private fail(): never {
    throw new Error('invalid JSON');
  }

  private value(keys: string[], into: Map<string, Leaf>): void {
    const s = this.s;
    const c = s[this.i];
    if (c === '{') {
      this.i++;
      this.ws();
      if (s[this.i] === '}') return void this.i++;
      for (;;) {
        this.ws();
        if (s[this.i] !== '"') this.fail();
        const key = this.string();
        this.ws();
        if (s[this.i++] !== ':') this.fail();
        this.ws();
        this.value([...keys, key], into);
        this.ws();
        const d = s[this.i++];
        if (d === '}') return;
        if (d !== ',') this.fail();
      }
    }
    if (c === '[') {
      this.i++;
      this.ws();
      if (s[this.i] === ']') return void this.i++;
      for (let n = 0; ; n++) {
        this.ws();
        this.value([...keys, String(n)], into);
        this.ws();
        const d = s[this.i++];
        if (d === ']') return;
        if (d !== ',') this.fail();
      }
    }
    if (c === '"') {
      this.string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (s.startsWith(word, this.i)) {
        this.i += word.length;
        return;
      }
    }
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(s);
    if (r === null) this.fail();
    this.i = m.lastIndex;
    // Python keeps the first position of a repeated key and the last value.
    into.set(keys.join(this.sep), { value: Number(r[0]), float: r[1] !== undefined || r[2] !== undefined });
  }

  private string(): string {
    const start = this.i;
    this.i++;
    const s = this.s;
    let escaped = false;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i++);
      if (c === 92) {
        escaped = true;
        this.i++;
      } else if (c === 34) {
        const raw = s.slice(start, this.i);
        return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      }
    }
    return this.fail();
  }
}

export default defineParser({
  name: 'json',
  aliases: ['JsonLogster'],
  description:
    'One JSON object per line, flattened into names joined by the key separator; reports the numbers of the last line only (Logster\'s JsonLogster). Strings, booleans and null are skipped',
  schema: () => z.strictObject({
    key_separator: z.string().min(1).default('.').describe('Joins nested keys into one name (`-k`/`--key-separator`)'),
  }),
  flags: [{ long: '--key-separator', short: '-k', key: 'key_separator' }],
  create(options) {
    const flat = new Flattener(options.key_separator);
    let last = new Map<string, Leaf>();
    return {
      parseLine(line: string) {
        const next = new Map<string, Leaf>();
        if (flat.read(line, next)) last = next;
      },
      report(): ParsedMetric[] {
        const out: ParsedMetric[] = [];
        for (const [name, leaf] of last) out.push({ name, value: leaf.value, float: leaf.float, type: 'int' });
        last = new Map();
        return out;
      },
    };
  },
});
