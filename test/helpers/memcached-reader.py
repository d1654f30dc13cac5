#!/usr/bin/python3
# An esmond persister's reading side, for the tests: MemcachedPersistQueue's __init__, get() and
# __len__ as esmond's esmond/persist.py has them (perfsonar/esmond, commit 8539cd0), line for line,
# overshoot included, with Debian's python3-memcache. Each item it gets goes to stdout as one JSON
# line {"queue": ..., "item": {...}}; esmond's "missing data" errors go to stderr. It polls every
# queue in turn until the file named by --stop exists, then reads until every queue is empty.
#
# usage: memcached-reader.py HOST:PORT STOPFILE QUEUE [QUEUE ...]
import json
import os
import sys
import time

import memcache


class PollResult(object):
    # esmond's PollResult: the keys it requires, extra ones ignored.
    def __init__(self, oidset_name, device_name, oid_name, timestamp, data,
            metadata, **kwargs):
        self.oidset_name = oidset_name
        self.device_name = device_name
        self.oid_name = oid_name
        self.timestamp = timestamp
        self.data = data
        self.metadata = metadata


class MemcachedPersistQueue(object):
    PREFIX = '_mcpq_'

    def __init__(self, qname, memcached_uri):
        self.qname = qname
        self.mc = memcache.Client([memcached_uri])

        self.last_added = '%s_%s_last_added' % (self.PREFIX, self.qname)
        la = self.mc.get(self.last_added)
        if not la:
            self.mc.set(self.last_added, 0)

        self.last_read = '%s_%s_last_read' % (self.PREFIX, self.qname)
        lr = self.mc.get(self.last_read)
        if not lr:
            self.mc.set(self.last_read, 0)

    def deserialize(self, val):
        return json.loads(val)

    def get(self, block=False):
        if len(self) <= 0:
            return None

        errors = 0

        qid = self.mc.incr(self.last_read)
        while qid <= self.mc.get(self.last_added):
            k = '%s_%s_%d' % (self.PREFIX, self.qname, qid)
            val = self.mc.get(k)
            if val:
                self.mc.delete(k)
                if errors:
                    sys.stderr.write("missing data: %d items missing (qids %d-%d)\n" %
                            (errors, qid-errors, qid-1))
                return PollResult(**self.deserialize(val))

            errors += 1

            qid = self.mc.incr(self.last_read)

    def __len__(self):
        n = self.mc.get(self.last_added) - self.mc.get(self.last_read)
        if n < 0:
            n = 0
        return n


def main():
    uri, stop, qnames = sys.argv[1], sys.argv[2], sys.argv[3:]
    queues = {}
    empty_rounds = 0
    while True:
        stopping = os.path.exists(stop)
        got = 0
        for q in qnames:
            try:
                if q not in queues:
                    queues[q] = MemcachedPersistQueue(q, uri)
                task = queues[q].get()
            except Exception as e:
                # espersistd's manager restarts a worker that died; its queue starts over in __init__.
                sys.stderr.write("worker %s died: %r\n" % (q, e))
                queues.pop(q, None)
                time.sleep(0.05)
                continue
            if task:
                got += 1
                sys.stdout.write(json.dumps({"queue": q, "item": {
                    "oidset_name": task.oidset_name, "device_name": task.device_name,
                    "oid_name": task.oid_name, "timestamp": task.timestamp,
                    "data": task.data, "metadata": task.metadata}}) + "\n")
                sys.stdout.flush()
        if got == 0:
            empty_rounds = empty_rounds + 1 if stopping else 0
            if empty_rounds >= 3:
                return
            time.sleep(0.002)


main()
