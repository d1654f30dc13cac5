// The difference between expected and actual output, as a unified-style listing of lines for a
// person to read: `-` what the case expects and did not get, `+` what came instead.

/** Lines compared at most by the exact (quadratic) diff; past that, a plain listing of both ends. */
const MAX_EXACT = 4000;
/** Unchanged lines shown around each change. */
const CONTEXT = 2;

type Op = { readonly tag: ' ' | '-' | '+'; readonly line: string };

function ops(a: readonly string[], b: readonly string[]): Op[] {
  // Common head and tail first: a golden case usually differs in a line or two.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const out: Op[] = a.slice(0, head).map((line) => ({ tag: ' ', line }));
  if (am.length * bm.length > MAX_EXACT * MAX_EXACT / 4 || am.length > MAX_EXACT || bm.length > MAX_EXACT) {
    for (const line of am) out.push({ tag: '-', line });
    for (const line of bm) out.push({ tag: '+', line });
  } else {
    // Longest common subsequence by dynamic programming over the differing middle.
    const n = am.length;
    const m = bm.length;
    const lcs = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = am[i] === bm[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        out.push({ tag: ' ', line: am[i]! });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
        out.push({ tag: '-', line: am[i]! });
        i++;
      } else {
        out.push({ tag: '+', line: bm[j]! });
        j++;
      }
    }
  }
  for (const line of a.slice(a.length - tail)) out.push({ tag: ' ', line });
  return out;
}

/**
 * A diff of two lists of lines, `--- expected` / `+++ got` headed, with a little context around
 * each change; empty when they are equal.
 */
export function lineDiff(expected: readonly string[], got: readonly string[], expectedName = 'expected', gotName = 'got'): string {
  const all = ops(expected, got);
  if (all.every((o) => o.tag === ' ')) return '';
  const keep = new Uint8Array(all.length);
  all.forEach((o, k) => {
    if (o.tag === ' ') return;
    for (let d = Math.max(0, k - CONTEXT); d <= Math.min(all.length - 1, k + CONTEXT); d++) keep[d] = 1;
  });
  let out = `--- ${expectedName}\n+++ ${gotName}\n`;
  let skipped = false;
  all.forEach((o, k) => {
    if (!keep[k]) {
      skipped = true;
      return;
    }
    if (skipped) out += '  ...\n';
    skipped = false;
    out += `${o.tag} ${o.line}\n`;
  });
  if (skipped) out += '  ...\n';
  return out;
}

/** True when a buffer reads as text (UTF-8, no NUL or other control bytes but tab, CR and LF). */
function isText(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

function hex(b: Buffer, from: number, to: number): string {
  const part = b.subarray(Math.max(0, from), Math.min(b.length, to));
  return [...part].map((x) => x.toString(16).padStart(2, '0')).join(' ') || '(nothing)';
}

/** How two byte strings differ: a line diff for text, the first differing byte and its neighbours otherwise. */
export function bytesDiff(expected: Buffer, got: Buffer, expectedName: string, gotName: string): string {
  if (expected.equals(got)) return '';
  if (isText(expected) && isText(got)) {
    // A missing final newline shows as a line of its own, as diff(1) shows it; a CR stays visible.
    const lines = (b: Buffer) => {
      const ls = b.toString('utf8').split('\n').map((l) => l.replaceAll('\r', '\\r'));
      if (ls[ls.length - 1] === '') ls.pop();
      else ls.push('\\ no newline at the end');
      return ls;
    };
    return lineDiff(lines(expected), lines(got), expectedName, gotName);
  }
  let at = 0;
  while (at < expected.length && at < got.length && expected[at] === got[at]) at++;
  return (
    `--- ${expectedName} (${expected.length} bytes)\n+++ ${gotName} (${got.length} bytes)\n` +
    `first difference at byte ${at}:\n- ${hex(expected, at - 8, at + 24)}\n+ ${hex(got, at - 8, at + 24)}\n`
  );
}
