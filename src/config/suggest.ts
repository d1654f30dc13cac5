// "Did you mean" for a name looked up on the command line (a collector, a plugin, a parser): the
// closest name by edit distance, or the sonde name of a Diamond class. Free of heavy imports, so
// that `sonde logster`'s small bundle can use it.
import { diamondPluginHint } from './diamond-names.js';
import { closest } from '../schema/introspect.js';

/** `did you mean "cpu"?` (or Diamond's name for it), or undefined when nothing is close. */
export function suggestion(word: string, candidates: readonly string[], kind?: 'collector' | 'handler'): string | undefined {
  const diamond = kind ? diamondPluginHint(word, kind) : undefined;
  if (diamond) return diamond;
  const near = closest(word, candidates);
  return near === undefined ? undefined : `did you mean "${near}"?`;
}

/** The suggestion as a clause to append to a sentence (`; did you mean "cpu"?`), or ''. */
export function didYouMean(word: string, candidates: readonly string[], kind?: 'collector' | 'handler'): string {
  const s = suggestion(word, candidates, kind);
  return s === undefined ? '' : `; ${s}`;
}
