// Runs a command on a terminal of its own: script(1) gives it a pty for stdin, stdout and stderr,
// so what is written to the child's stdin is typed at that terminal (`\x03` is Ctrl-C).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * script(1) runs the command through `$SHELL -c`. A shell that stays between script and the
 * command (dash, when SHELL is unset or /bin/sh, as on a CI runner) gets the Ctrl-C too and dies
 * of it (status 130) after the command exited cleanly; `exec` puts the command in its place.
 */
export function onTerminal(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcessWithoutNullStreams {
  const quoted = argv.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ');
  return spawn('script', ['-qefc', `exec ${quoted}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...env, TERM: 'dumb' } });
}
