// Diamond's names for what sonde calls otherwise, so that a section or key carried over from
// diamond.conf gets a hint instead of a bare "unknown". Checked against python-diamond/Diamond:
// the collector classes in src/collectors/, the handler classes in src/diamond/handler/ and
// GraphiteHandler's get_default_config() (docs/compat.md, "Diamond's names").

export interface DiamondPlugin {
  readonly kind: 'collector' | 'handler';
  /** sonde's plugin. */
  readonly name: string;
  /** What else the section needs to do what Diamond's did, written as config. */
  readonly with?: string;
}

const PLUGINS: Record<string, DiamondPlugin> = {
  cpucollector: { kind: 'collector', name: 'cpu' },
  memorycollector: { kind: 'collector', name: 'memory' },
  loadaveragecollector: { kind: 'collector', name: 'loadavg' },
  diskspacecollector: { kind: 'collector', name: 'diskspace' },
  diskusagecollector: { kind: 'collector', name: 'iostat' },
  vmstatcollector: { kind: 'collector', name: 'vmstat' },
  networkcollector: { kind: 'collector', name: 'network' },
  sockstatcollector: { kind: 'collector', name: 'sockets' },
  mysqlcollector: { kind: 'collector', name: 'mysql' },
  graphitehandler: { kind: 'handler', name: 'graphite' },
  graphitepicklehandler: { kind: 'handler', name: 'graphite', with: 'protocol: pickle' },
  multigraphitehandler: { kind: 'handler', name: 'graphite', with: 'mode: replicate' },
  multigraphitepicklehandler: { kind: 'handler', name: 'graphite', with: 'protocol: pickle, mode: replicate' },
  statsdhandler: { kind: 'handler', name: 'statsd' },
  httpposthandler: { kind: 'handler', name: 'http' },
};

/**
 * Diamond's plugin for a name as diamond.conf writes it: the class (`CPUCollector`) or its dotted
 * path (`diamond.handler.graphite.GraphiteHandler`), in any case.
 */
export function diamondPlugin(name: string): DiamondPlugin | undefined {
  const last = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return Object.hasOwn(PLUGINS, last) ? PLUGINS[last] : undefined;
}

/** The hint for a section or command argument that names a Diamond plugin, for an operator who expects `kind`. */
export function diamondPluginHint(name: string, kind: 'collector' | 'handler'): string | undefined {
  const d = diamondPlugin(name);
  if (!d) return undefined;
  const extra = d.with ? ` with ${d.with}` : '';
  if (d.kind !== kind) return `Diamond's ${name} is sonde's ${d.kind} "${d.name}"${extra}; put it under ${d.kind}s:`;
  return `Diamond's ${name} is sonde's "${d.name}"${extra}`;
}

/** Diamond's handler and collector options, each with sonde's keys it may have become, in order of preference. */
const KEYS: Record<string, { readonly to: readonly string[]; readonly how: (to: string) => string }> = {
  // GraphiteHandler, StatsdHandler: host and port are one host:port item here.
  host: { to: ['destinations', 'destination'], how: (to) => (to === 'destinations' ? 'destinations: ["<host>:2003"] (host and port together)' : 'destination: "<host>:8125" (host and port together)') },
  port: { to: ['destinations', 'destination'], how: (to) => (to === 'destinations' ? 'destinations: ["<host>:<port>"] (host and port together)' : 'destination: "<host>:<port>" (host and port together)') },
  proto: { to: ['transport', 'protocol'], how: (to) => `${to}: tcp or udp` },
  batch: { to: ['batch_size'], how: () => 'batch_size: samples per send' },
  timeout: { to: ['connect_timeout'], how: () => 'connect_timeout (and send_timeout for a write), a duration such as 15s' },
  max_backlog_multiplier: { to: ['queue_size'], how: () => 'queue_size: samples held, not batches' },
  trim_backlog_multiplier: { to: ['queue_size'], how: () => 'queue_size: the oldest samples past it are dropped, counted and logged' },
  collectors_path: { to: ['plugin_paths'], how: () => 'plugin_paths: a list of directories of .js/.mjs plugins (Python collectors do not load)' },
  measure_collector_time: { to: ['self_metrics'], how: () => 'self_metrics: sonde reports every collector\'s run time there' },
};

/** The hint for an unknown key that is Diamond's name for one of `known`, or undefined. */
export function diamondKeyHint(key: string, known: readonly string[]): string | undefined {
  const k = Object.hasOwn(KEYS, key.toLowerCase()) ? KEYS[key.toLowerCase()] : undefined;
  const to = k?.to.find((t) => known.includes(t));
  if (!k || to === undefined) return undefined;
  return `Diamond's "${key}" is "${to}" here: ${k.how(to)}`;
}
