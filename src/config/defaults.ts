// Paths the packaged agent uses unless told otherwise.
export const DEFAULT_CONFIG_PATH = '/etc/sonde/sonde.yaml';
export const DEFAULT_PLUGIN_PATHS = ['/etc/sonde/plugins'];
