#!/usr/bin/env node
// The `sonde` command: the built entry in dist/ (npm run build writes it).
require("../dist/sonde.cjs");
