// The built-in log parsers. Adding one: write parsers/<name>.ts and list it here.
import type { ParserDefinition } from '../src/plugin-api.js';
import postfix from './postfix.js';
import apache from './apache.js';
import squid from './squid.js';
import log4j from './log4j.js';
import errorlog from './errorlog.js';
import metric from './metric.js';
import json from './json.js';
import regex from './regex.js';

export const builtinParsers: ParserDefinition[] = [postfix, apache, squid, log4j, errorlog, metric, json, regex] as ParserDefinition[];
