// Entry point of dist/sonde-agent.mjs: every command but `sonde logster` (see src/entry.ts).
export { main as run } from './cli.js';
