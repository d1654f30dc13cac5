// The built-in collectors. Adding one: write collectors/<name>.ts and list it here.
import cpu from './cpu.js';
import loadavg from './loadavg.js';
import memory from './memory.js';

export const builtinCollectors = [cpu, memory, loadavg];
