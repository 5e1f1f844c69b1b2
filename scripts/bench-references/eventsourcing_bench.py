"""The Python `eventsourcing` library (SQLite persistence) on credlog's benchmark workloads.

Built and run by scripts/bench; prints one JSON object per run.

    eventsourcing_bench.py append DIR CONNECTIONS     each connection's life, one save (one transaction) per command
    eventsourcing_bench.py rebuild DIR EVENTS         bulk-load EVENTS events (once per DIR), then replay them all into a read model
    eventsourcing_bench.py timetravel DIR SAMPLES     one aggregate at a random version (p50/p99), on the rebuild log
"""
import json
import os
import random
import sys
import time


from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Connection(Aggregate):
    """The same life as credlog's benchmark connections."""

    @event("Created")
    def __init__(self, name, piece):
        self.name = name
        self.piece = piece
        self.flows = []
        self.status = "active"

    @event("AttachedToFlow")
    def attach(self, flow):
        self.flows.append(flow)

    @event("Renamed")
    def rename(self, name):
        self.name = name

    @event("Expired")
    def expire(self, reason):
        self.status = "inactive"

    @event("Reconnected")
    def reconnect(self, fingerprint):
        self.status = "active"


class Connections(Application):
    pass


def application(directory):
    """An application persisting to SQLite (WAL; SQLite's default synchronous=FULL) in DIRECTORY."""
    os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
    os.environ["SQLITE_DBNAME"] = os.path.join(directory, "eventsourcing.sqlite")
    return Connections(), Connection


def life(connection_class, n, bulk=False):
    """The commands of one connection's life: created, attached to three flows, renamed, expired, reconnected.
    In the bulk log (as in credlog's), one in three ends attached to a fourth flow instead of reconnected."""
    connection = connection_class(f"Connection {n}", "gmail")
    yield connection
    for flow in range(3):
        connection.attach(f"flow-{flow}")
        yield connection
    connection.rename(f"Connection {n} renamed")
    yield connection
    connection.expire("token expired")
    yield connection
    if bulk and n % 3 == 0:
        connection.attach("flow-3")
    else:
        connection.reconnect("fp:2")
    yield connection


def append(directory, connections):
    app, connection_class = application(directory)
    start = time.perf_counter()
    saves = 0
    ids = []
    for n in range(connections):
        for aggregate in life(connection_class, n):
            app.save(aggregate)
            saves += 1
        ids.append(aggregate.id)
    seconds = time.perf_counter() - start
    events = app.recorder.max_notification_id()
    active = sum(1 for i in ids if app.repository.get(i).status == "active")
    return {"workload": "append", "commands": saves, "events": events, "seconds": seconds, "active": active}


def rebuild(directory, events):
    generate = not os.path.exists(os.path.join(directory, "eventsourcing.sqlite"))
    app, connection_class = application(directory)
    if generate:
        batch = []
        for n in range(events // 7):
            aggregate = None
            for aggregate in life(connection_class, n, bulk=True):
                pass
            batch.append(aggregate)
            if len(batch) == 1000:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)
    stored = app.recorder.max_notification_id()
    # Replay: read every stored event in order, decode it, fold it into an in-memory read model.
    start = time.perf_counter()
    read_model = {}
    position = 1
    count = 0
    while True:
        notifications = app.recorder.select_notifications(start=position, limit=2000)
        if not notifications:
            break
        for notification in notifications:
            domain_event = app.mapper.to_domain_event(notification)
            state = read_model.setdefault(domain_event.originator_id, {"flows": 0, "status": "active"})
            name = type(domain_event).__name__
            if name == "AttachedToFlow":
                state["flows"] += 1
            elif name == "Expired":
                state["status"] = "inactive"
            elif name == "Reconnected":
                state["status"] = "active"
            count += 1
        position = notifications[-1].id + 1
    seconds = time.perf_counter() - start
    active = sum(1 for state in read_model.values() if state["status"] == "active")
    flows = sum(state["flows"] for state in read_model.values())
    ids = list(read_model.keys())
    with open(os.path.join(directory, "ids.json"), "w") as handle:
        json.dump([str(i) for i in ids[:5000]], handle)
    return {"workload": "rebuild", "events": count, "stored": stored, "seconds": seconds,
            "connections": len(read_model), "active": active, "flows": flows}


def timetravel(directory, samples):
    import uuid
    app, _ = application(directory)
    with open(os.path.join(directory, "ids.json")) as handle:
        ids = [uuid.UUID(i) for i in json.load(handle)]
    generator = random.Random(7)
    latencies = []
    for _ in range(samples):
        aggregate_id = generator.choice(ids)
        version = generator.randint(1, 7)
        start = time.perf_counter()
        app.repository.get(aggregate_id, version=version)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    return {"workload": "timetravel", "samples": samples, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


def main():
    workload, directory, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    result = {"append": append, "rebuild": rebuild, "timetravel": timetravel}[workload](directory, size)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
