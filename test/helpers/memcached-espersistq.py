#!/usr/bin/python3
# esmond's espersistq (QueueStats and stats() in esmond/persist.py, perfsonar/esmond commit
# 8539cd0), in Python 3 with Debian's python3-memcache, for the tests: the same readings, the same
# warning and the same table, for one round of its loop instead of every 5 s. Only `print` became a
# function and the memcached address and queue list come from the command line.
#
# usage: memcached-espersistq.py HOST:PORT QNAME:NWORKERS [QNAME:NWORKERS ...]
import sys

import memcache


class QueueStats:
    prefix = '_mcpq_'

    def __init__(self, mc, qname):
        self.mc = mc
        self.qname = qname
        self.last_read = [0, 0]
        self.last_added = [0, 0]
        self.warn = False

    def update_stats(self):
        for k in ('last_read', 'last_added'):
            kk = '%s_%s_%s' % (self.prefix, self.qname, k)
            v = self.mc.get(kk)
            l = getattr(self, k)
            if v:
                l.pop()
                l.insert(0, int(v))
            elif not self.warn:
                print("warning: no stats, no work queue %s in memcache" % (self.qname, ), file=sys.stderr)
                self.warn = True
                break

    def get_stats(self):
        pending = self.last_added[0] - self.last_read[0]
        new = self.last_added[0] - self.last_added[1]
        done = self.last_read[0] - self.last_read[1]
        delta = new - done
        return (self.qname,
                pending,
                new,
                done,
                delta,
                self.last_added[0])


def stats(uri, persist_queues):
    stats = {}
    mc = memcache.Client([uri])

    for qname, nworkers in persist_queues:
        if nworkers == 1:
                stats[qname] = QueueStats(mc, qname)
                stats[qname].update_stats()
        else:
            for i in range(1, nworkers + 1):
                k = "%s_%d" % (qname, i)
                stats[k] = QueueStats(mc, k)
                stats[k].update_stats()

    keys = sorted(stats.keys())
    for _round in range(1):
        total = [0,0,0,0]
        print("%20s %8s %8s %8s %8s %14s" % (
                "queue", "pending", "new", "done", "delta", "max"))
        for k in keys:
            stats[k].update_stats()
            vals = stats[k].get_stats()
            print("%20s % 8d % 8d % 8d % 8d % 14d" % vals)
            total = list(map(sum, zip(total, vals[1:-1])))
        total.insert(0, "TOTAL")
        print("%20s % 8d % 8d % 8d % 8d" % tuple(total))
        print("")


stats(sys.argv[1], [(a.split(':')[0], int(a.split(':')[1])) for a in sys.argv[2:]])
