// Pure parsers of /proc files, one module per file: text in, typed figures out; no I/O.
export * from './stat.js';
export * from './meminfo.js';
export * from './loadavg.js';
export * from './diskstats.js';
export * from './net-dev.js';
export * from './sockstat.js';
export * from './vmstat.js';
export * from './mountinfo.js';
