// The built-in log parsers. Adding one: write parsers/<name>.ts and list it here.
import type { ParserDefinition } from '../src/plugin-api.js';

export const builtinParsers: ParserDefinition[] = [];
