// Installs the Debian packages the tests start (real servers, real peers) when they are missing.
import { ensureDebs } from './debs.mjs';

/** Each entry: the Debian package, and a file that proves it is installed. */
export const TEST_PACKAGES = [
  // findmnt (util-linux) and df (coreutils) for the live diskspace check; present on any Debian.
  { name: 'util-linux', proves: '/usr/bin/findmnt' },
  // script gives `sonde run` a terminal, for what it says to a person (npm start).
  { name: 'bsdutils', proves: '/usr/bin/script' },
  // carbon.hashing, the reference for the graphite handler's consistent hashing.
  { name: 'graphite-carbon', proves: '/usr/lib/python3/dist-packages/carbon/hashing.py' },
  // carbon-cache for the end-to-end tests, whisper-fetch to read what it stored.
  { name: 'graphite-carbon', proves: '/usr/bin/carbon-cache' },
  { name: 'python3-whisper', proves: '/usr/bin/whisper-fetch' },
  // logtail2, whose state files sonde logster continues (and the reverse).
  { name: 'logtail', proves: '/usr/sbin/logtail2' },
  // python3 computes the expected Python str() of numbers (Logster's output format).
  { name: 'python3', proves: '/usr/bin/python3' },
  // sonde logster -o ganglia runs gmetric; gmond (same package) receives what it sends.
  { name: 'ganglia-monitor', proves: '/usr/bin/gmetric' },
  { name: 'ganglia-monitor', proves: '/usr/sbin/gmond' },
  // sonde logster -o nsca runs send_nsca; the nsca daemon receives what it sends.
  { name: 'nsca-client', proves: '/usr/sbin/send_nsca' },
  { name: 'nsca', proves: '/usr/sbin/nsca' },
  // The Debian package's unit and man page are checked with systemd-analyze and man.
  { name: 'systemd', proves: '/usr/bin/systemd-analyze' },
  { name: 'man-db', proves: '/usr/bin/man' },
  // The mysql collector's tests start several MariaDB instances (mariadb-install-db, mariadbd).
  { name: 'mariadb-server', proves: '/usr/sbin/mariadbd' },
  { name: 'mariadb-server', proves: '/usr/bin/mariadb-install-db' },
  // The reference for a few of the mysql collector's levels, read in the same second.
  { name: 'prometheus-mysqld-exporter', proves: '/usr/bin/prometheus-mysqld-exporter' },
  // sonde completion's zsh script is checked with zsh -n (bash is there already).
  { name: 'zsh', proves: '/usr/bin/zsh' },
  // The http handler's influx format is read back from a real InfluxDB 1.x (influxd, /query).
  { name: 'influxdb', proves: '/usr/bin/influxd' },
  // Its prometheus_remote_write format, from a real Prometheus (remote-write receiver, /api/v1/query).
  { name: 'prometheus', proves: '/usr/bin/prometheus' },
  // The memcached_queue handler writes to a real memcached (-M -m 2 for the out-of-memory cases);
  // an esmond-style reader written in Python reads it with python-memcached, as esmond does.
  { name: 'memcached', proves: '/usr/bin/memcached' },
  { name: 'python3-memcache', proves: '/usr/lib/python3/dist-packages/memcache.py' },
];

if (!ensureDebs(TEST_PACKAGES, 'pretest')) process.exit(1);
