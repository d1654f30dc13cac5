// The built-in handlers. Adding one: write handlers/<name>.ts and list it here.
import graphite from './graphite/graphite.js';
import http from './http/http.js';
import memcachedQueue from './memcached_queue/memcached_queue.js';
import statsd from './statsd/statsd.js';
import stdout from './stdout.js';

export const builtinHandlers = [stdout, graphite, statsd, http, memcachedQueue];
