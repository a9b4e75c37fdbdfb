"""One test instance written in Python: registers, passes a barrier with the others,
exchanges names over a topic, records a metric and reports success."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sync_client import SyncClient  # noqa: E402

host, port = os.environ["TGC_COORDINATOR"].rsplit(":", 1)
client = SyncClient(host, int(port))
me = client.register(os.environ["TGC_GROUP"], os.environ.get("TGC_INSTANCE"))
total = me["instances"]
client.signal_and_wait("ready", total)
client.publish("names", {"name": me["name"], "lang": "python"})
names = client.subscribe("names", total)
client.record("peers_seen", len(names), "peers")
client.outcome("success")
print(json.dumps({"identity": me, "names": names}))
client.close()
