// Paths sonde uses unless told otherwise (an installed agent's layout under /etc/sonde).
export const DEFAULT_CONFIG_PATH = '/etc/sonde/sonde.yaml';
export const DEFAULT_PLUGIN_PATHS = ['/etc/sonde/plugins'];
