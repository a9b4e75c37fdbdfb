"""The coordinator connection: JSON lines over TCP (docs/protocol.md), standard library only.

One background thread reads frames and hands each reply to the request waiting for it, each
topic message to its subscriptions, and the run's stop event to whoever listens; calls from any
thread block until their reply comes.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional


class CoordinatorError(Exception):
    """The coordinator refused a request (``code`` is one of docs/protocol.md's error codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Client:
    """One connection to the coordinator."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._next_id = 1
        self._pending: Dict[int, "_Slot"] = {}
        self._topics: Dict[str, List[Any]] = {}
        self._topic_cond = threading.Condition(self._lock)
        self._stop_handlers: List[Callable[[Dict[str, Any]], None]] = []
        self.stopped: Optional[Dict[str, Any]] = None
        self.closed: Optional[BaseException] = None
        self._reader = threading.Thread(target=self._read_loop, name="tgc-sdk-reader", daemon=True)
        self._reader.start()

    @classmethod
    def connect(cls, address: str, timeout_s: float = 60.0) -> "Client":
        """Connects to ``host:port``, retrying until the coordinator listens or ``timeout_s`` passes."""
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("coordinator address %r is not host:port" % address)
        host = host.strip("[]")
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((host, int(port)), timeout=10)
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return cls(sock)
            except OSError as err:
                if time.monotonic() + 0.2 > deadline:
                    raise ConnectionError("cannot reach the coordinator at %s: %s" % (address, err)) from err
                time.sleep(0.2)

    def request(self, type_: str, **fields: Any) -> Dict[str, Any]:
        """Sends a request and blocks until its reply; raises CoordinatorError on an error reply."""
        slot = _Slot()
        with self._lock:
            if self.closed is not None:
                raise ConnectionError("the connection to the coordinator is closed")
            rid = self._next_id
            self._next_id += 1
            self._pending[rid] = slot
        self._send(dict(fields, type=type_, id=rid))
        reply = slot.wait()
        error = reply.get("error")
        if isinstance(error, dict):
            raise CoordinatorError(str(error.get("code")), str(error.get("message")))
        return reply

    def fire(self, type_: str, **fields: Any) -> None:
        """Sends a request that wants no reply (records, messages)."""
        if self.closed is None:
            self._send(dict(fields, type=type_))

    def take(self, topic: str, n: int, start: int = 0, timeout_s: Optional[float] = None) -> List[Any]:
        """Blocks until the topic holds ``start + n`` messages; returns messages ``start`` to ``start + n``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._topic_cond:
            while len(self._topics.get(topic, [])) < start + n:
                if self.closed is not None:
                    raise ConnectionError("the connection to the coordinator closed")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("%d messages of %s did not come in time" % (n, topic))
                self._topic_cond.wait(left)
            return list(self._topics[topic][start : start + n])

    def on_stop(self, handler: Callable[[Dict[str, Any]], None]) -> None:
        self._stop_handlers.append(handler)

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def _send(self, frame: Dict[str, Any]) -> None:
        data = (json.dumps(frame, separators=(",", ":")) + "\n").encode("utf-8")
        with self._send_lock:
            self._sock.sendall(data)

    def _read_loop(self) -> None:
        reader = self._sock.makefile("r", encoding="utf-8", newline="\n")
        error: BaseException = ConnectionError("the coordinator closed the connection")
        try:
            for line in reader:
                if line.strip():
                    self._dispatch(json.loads(line))
        except (OSError, ValueError) as err:
            error = err
        finally:
            reader.close()
        with self._lock:
            self.closed = error
            pending = list(self._pending.values())
            self._pending.clear()
            self._topic_cond.notify_all()
        for slot in pending:
            slot.fail(ConnectionError("the connection to the coordinator closed"))

    def _dispatch(self, frame: Dict[str, Any]) -> None:
        if "re" in frame:
            with self._lock:
                slot = self._pending.pop(frame["re"], None)
            if slot is not None:
                slot.set(frame)
            return
        event = frame.get("event")
        if event == "message":
            with self._topic_cond:
                got = self._topics.setdefault(frame["topic"], [])
                if frame["seq"] == len(got) + 1:
                    got.append(frame.get("payload"))
                    self._topic_cond.notify_all()
        elif event == "stop":
            self.stopped = frame
            for handler in list(self._stop_handlers):
                handler(frame)


class _Slot:
    """Where one reply lands."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reply: Dict[str, Any] = {}
        self._error: Optional[BaseException] = None

    def set(self, reply: Dict[str, Any]) -> None:
        self._reply = reply
        self._event.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._event.set()

    def wait(self) -> Dict[str, Any]:
        self._event.wait()
        if self._error is not None:
            raise self._error
        return self._reply
