// The built-in parsers alone, for `sonde logster`: building the whole registry would also build
// every collector's and handler's schema on each cron run.
import { builtinParsers } from '../../parsers/index.js';
import { Registry } from './registry.js';

export function builtinParserRegistry(): Registry {
  const registry = new Registry();
  for (const p of builtinParsers) {
    const problem = registry.add(p, 'built-in');
    if (problem) throw new Error(`built-in parser ${p.name}: ${problem}`);
  }
  return registry;
}
