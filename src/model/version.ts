// The version, injected by the bundler from package.json (tests see "dev").
declare const SONDE_VERSION: string | undefined;
export const VERSION: string = typeof SONDE_VERSION === 'string' ? SONDE_VERSION : 'dev';
