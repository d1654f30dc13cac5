import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pyFloat, pyStr } from '../src/model/py-number.js';

// Values chosen to cross every layout boundary: exponents -5..-3 and 15..17, shortest digits,
// negative zero, integers as floats, and a seeded random spread over many magnitudes.
function values(): number[] {
  const out = [0, -0, 1, -1, 0.1, 0.5, 1 / 3, 2 / 3, 40, 2019.5, 79.87614769208741, 1e-5, 1e-4, 0.0001234, 0.00001234, 1e15, 1e16, 1.5e16, 123456789012345680, 9007199254740993, 1e21, 1e22, 1.7976931348623157e308, 5e-324, 0.08333333333333333, 0.03333333333333333, 100, 1e100, 123.456, -0.000099];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 300; i++) {
    const mag = Math.floor(rnd() * 44) - 22;
    out.push((rnd() - 0.3) * 10 ** mag);
  }
  return out;
}

describe('numbers as Python 3 str() prints them', () => {
  it('renders a few hundred floats exactly as python3 does', () => {
    const xs = values();
    // repr() of the shortest JS form reads back the same double in Python.
    const script = `import sys\nfor line in sys.stdin:\n    print(str(float(line)))`;
    const py = execFileSync('python3', ['-c', script], { input: xs.map((x) => (Object.is(x, -0) ? '-0.0' : String(x))).join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
    expect(xs.map((x) => pyStr(x, true))).toEqual(py);
  });

  it('renders ints as python3 does, big ones included', () => {
    const ints = [0, 1, -1, 12, 2 ** 31, 2 ** 53, 10 ** 21, 123456789012345678901234, -(10 ** 22)];
    const py = execFileSync('python3', ['-c', 'import sys\nfor line in sys.stdin:\n    print(str(int(float(line))))'], { input: ints.map(String).join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
    expect(ints.map((x) => pyStr(x, false))).toEqual(py);
  });

  it("reads numbers as Python's float() does, and refuses what it refuses", () => {
    const ok = [' 12 ', '1_000.5', '.5', '5.', '1e3', '-inf', 'NaN', '+2.5E-3'];
    const bad = ['', '1,5', '0x10', '1..2', '_1', 'abc', '1e'];
    const py = execFileSync('python3', ['-c', 'import sys,json\nfor s in json.load(sys.stdin):\n    try:\n        print(repr(float(s)))\n    except ValueError:\n        print("ValueError")'], { input: JSON.stringify([...ok, ...bad]), encoding: 'utf8' }).trim().split('\n');
    const mine = [...ok, ...bad].map((s) => {
      const v = pyFloat(s);
      return v === undefined ? 'ValueError' : pyStr(v, true);
    });
    expect(mine).toEqual(py);
  });
});
