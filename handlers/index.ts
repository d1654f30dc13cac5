// The built-in handlers. Adding one: write handlers/<name>.ts and list it here.
import stdout from './stdout.js';

export const builtinHandlers = [stdout];
