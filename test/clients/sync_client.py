"""A tgc coordinator client in Python's standard library alone (docs/protocol.md)."""
import json
import socket


class SyncClient:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.reader = self.sock.makefile("r", encoding="utf-8", newline="\n")
        self.next_id = 0
        self.replies = {}  # replies that arrived while waiting for another
        self.messages = {}  # topic -> payloads in seq order
        self.stopped = None

    def send(self, type_, **fields):
        self.next_id += 1
        frame = dict(fields, type=type_, id=self.next_id)
        self.sock.sendall((json.dumps(frame) + "\n").encode("utf-8"))
        return self.next_id

    def read_frame(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("the coordinator closed the connection")
        frame = json.loads(line)
        if frame.get("event") == "message":
            got = self.messages.setdefault(frame["topic"], [])
            if frame["seq"] == len(got) + 1:
                got.append(frame["payload"])
        elif frame.get("event") == "stop":
            self.stopped = frame
        elif "re" in frame:
            self.replies[frame["re"]] = frame
        return frame

    def request(self, type_, **fields):
        rid = self.send(type_, **fields)
        while rid not in self.replies:
            self.read_frame()
        reply = self.replies.pop(rid)
        if "error" in reply:
            raise RuntimeError("%s: %s" % (reply["error"]["code"], reply["error"]["message"]))
        return reply

    def register(self, group, instance=None):
        return self.request("register", group=group, **({"instance": instance} if instance else {}))

    def signal_and_wait(self, state, target):
        self.request("signal", state=state)
        return self.request("barrier", state=state, target=target)

    def publish(self, topic, payload):
        return self.request("publish", topic=topic, payload=payload)["seq"]

    def subscribe(self, topic, count):
        """Subscribes and returns the first `count` payloads of the topic."""
        self.request("subscribe", topic=topic)
        while len(self.messages.get(topic, [])) < count:
            self.read_frame()
        return self.messages[topic][:count]

    def record(self, name, value, unit=""):
        self.request("record", name=name, value=value, unit=unit)

    def outcome(self, status, reason=None):
        self.request("outcome", status=status, **({"reason": reason} if reason else {}))

    def close(self):
        self.sock.close()
