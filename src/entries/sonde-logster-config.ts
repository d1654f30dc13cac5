// Entry point of dist/sonde-logster-config.mjs: `sonde logster --config FILE -o <handler>` loads
// sonde.yaml and its handlers from here, on demand, so runs without --config never compile them.
export { loadConfigHandlers } from '../logster/config-handlers.js';
