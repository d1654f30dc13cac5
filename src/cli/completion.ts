// `sonde completion`: yargs' bash/zsh completion script, which asks `sonde --get-yargs-completions
// WORDS...` on every Tab. Commands and options come from yargs; the names a command looks up
// (collectors, plugins, parsers) from the registry, imported only when such a word is completed.

type Done = (completions: string[]) => void;
type Fallback = (onCompleted?: (err: Error | null, completions: string[] | undefined) => void) => void;

/** Which names complete the word after each command (its positional). */
const NAMES: Record<string, 'collectors' | 'plugins' | 'sections'> = {
  collect: 'collectors',
  list: 'plugins',
  config: 'sections',
};

async function names(kind: 'collectors' | 'plugins' | 'sections'): Promise<string[]> {
  const { builtinRegistry } = await import('../plugins/builtin.js');
  const r = builtinRegistry();
  if (kind === 'collectors') return [...r.collectors.keys()];
  if (kind === 'sections') return ['global', ...r.collectors.keys(), ...r.handlers.keys()];
  return [...new Set([...r.collectors.keys(), ...r.handlers.keys(), ...r.parsers.keys()])];
}

/** yargs' completion function: `argv._` holds the words before the one being completed. */
export function complete(current: string, argv: { _: (string | number)[] }, fallback: Fallback, done: Done): void {
  // argv._ is every word of the line: the program, the command, ..., and the word being completed.
  const words = argv._.map(String).slice(1);
  if (words.length > 0 && words[words.length - 1] === current) words.pop();
  const command = words[0];
  const kind = command === undefined ? undefined : NAMES[command];
  // The name itself: the word right after the command (config takes several), not an option.
  const positional = kind !== undefined && !current.startsWith('-') && (words.length === 1 || kind === 'sections');
  if (!positional) {
    fallback();
    return;
  }
  names(kind).then(
    (all) => done(all.filter((n) => n.startsWith(current) && !words.slice(1).includes(n))),
    () => done([]),
  );
}
