// The built-in collectors. Adding one: write collectors/<name>.ts and list it here.
import cpu from './cpu.js';
import diskspace from './diskspace.js';
import iostat from './iostat.js';
import loadavg from './loadavg.js';
import logs from './logs.js';
import memory from './memory.js';
import mysql from './mysql/mysql.js';
import network from './network.js';
import sockets from './sockets.js';
import vmstat from './vmstat.js';

export const builtinCollectors = [cpu, memory, loadavg, diskspace, iostat, vmstat, network, sockets, logs, mysql];
