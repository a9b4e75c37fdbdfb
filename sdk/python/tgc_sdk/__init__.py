"""tgc's SDK for Python test programs (docs/sdk-python.md): the same API as the TypeScript SDK.

    from tgc_sdk import run

    def test(env):
        env.network.wait_ready()
        sub = env.sync.publish_subscribe("addresses", {"name": env.name, "ip": env.data_ip})
        peers = sub.take(env.instances)
        env.record("peers_seen", len(peers))

    run(test)
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional

from .client import Client, CoordinatorError

__all__ = ["connect", "run", "RunEnv", "Sync", "Subscription", "Network", "CoordinatorError"]


class Subscription:
    """Messages of one topic, in order, from the first ever published."""

    def __init__(self, client: Client, topic: str) -> None:
        self._client = client
        self.topic = topic
        self._taken = 0

    def take(self, n: int, timeout_s: Optional[float] = None) -> List[Any]:
        """The next ``n`` messages (blocks until they are published)."""
        got = self._client.take(self.topic, n, self._taken, timeout_s)
        self._taken += n
        return got

    def next(self, timeout_s: Optional[float] = None) -> Any:
        return self.take(1, timeout_s)[0]


class Sync:
    """States, barriers and topics, shared with every instance of the run."""

    def __init__(self, client: Client, instances: int) -> None:
        self._client = client
        self._instances = instances

    def signal(self, state: str) -> int:
        """Signals ``state``; returns its count after this signal."""
        return int(self._client.request("signal", state=state)["count"])

    def barrier(self, state: str, target: int) -> None:
        """Blocks until ``state`` has been signalled ``target`` times."""
        self._client.request("barrier", state=state, target=target)

    def signal_and_wait(self, state: str, target: Optional[int] = None) -> int:
        """Signals ``state``, then waits until ``target`` (default: every instance) have."""
        count = self.signal(state)
        self.barrier(state, self._instances if target is None else target)
        return count

    def publish(self, topic: str, payload: Any) -> int:
        """Appends ``payload`` (any JSON value) to ``topic``; returns its sequence number."""
        return int(self._client.request("publish", topic=topic, payload=payload)["seq"])

    def subscribe(self, topic: str) -> Subscription:
        self._client.request("subscribe", topic=topic)
        return Subscription(self._client, topic)

    def publish_subscribe(self, topic: str, payload: Any) -> Subscription:
        """Subscribes to ``topic``, then publishes ``payload`` to it."""
        sub = self.subscribe(topic)
        self.publish(topic, payload)
        return sub


class Network:
    """This instance's network, through its shaping agent."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def wait_ready(self) -> None:
        """Blocks until this instance's shaping is applied (at once when shaping is off)."""
        self._client.request("network_wait_ready")

    def configure(
        self, shape: Mapping[str, Any], callback_state: Optional[str] = None, to: Optional[str] = None
    ) -> None:
        """Changes this instance's egress shape (``{"latency": "100ms", "loss": "1%"}``); blocks until applied.

        With ``to`` (an instance name, a group id or ``group[index]``) only the links to those
        instances change, over the plan's shapes.
        """
        fields: Dict[str, Any] = {"shape": dict(shape)}
        if callback_state is not None:
            fields["callback_state"] = callback_state
        if to is not None:
            fields["to"] = to
        self._client.request("network_configure", **fields)


class RunEnv:
    """One instance of a run: who it is, what it was given, and how it talks to the others."""

    def __init__(self, client: Client, identity: Mapping[str, Any], env: Mapping[str, str]) -> None:
        self._client = client
        self.run_id: str = identity["run_id"]
        self.plan: str = identity["plan"]
        self.name: str = identity["name"]
        self.group: str = identity["group"]
        self.seq: int = identity["seq"]
        self.group_seq: int = identity["group_seq"]
        self.instances: int = identity["instances"]
        self.group_instances: Optional[int] = identity.get("group_instances")
        self.params: Dict[str, Any] = json.loads(env.get("TGC_PARAMS") or "{}")
        self.data_subnet: Optional[str] = env.get("TGC_DATA_SUBNET") or env.get("TEST_SUBNET")
        self.data_ip: Optional[str] = env.get("TGC_DATA_IP") or address_in(self.data_subnet)
        self.outputs_dir: Optional[str] = env.get("TGC_OUTPUTS") or env.get("TEST_OUTPUTS_PATH")
        self.sync = Sync(client, self.instances)
        self.network = Network(client)

    def record(self, name: str, value: float, unit: str = "") -> None:
        """Records one value of a metric (summarized per instance and per group in results.json)."""
        self._client.fire("record", name=name, value=value, unit=unit)

    def message(self, text: str) -> None:
        """A message kept with this instance's results."""
        self._client.fire("message", text=text)

    def success(self) -> None:
        self._client.request("outcome", status="success")

    def failure(self, reason: str) -> None:
        self._client.request("outcome", status="failure", reason=reason)

    def on_stop(self, handler: Callable[[Dict[str, Any]], None]) -> None:
        """Called (on the reader thread) when the coordinator ends the run."""
        self._client.on_stop(handler)

    def close(self) -> None:
        self._client.close()


def address_in(cidr: Optional[str]) -> Optional[str]:
    """This host's IPv4 address inside ``cidr``, if it has one (without TGC_DATA_IP)."""
    if not cidr:
        return None
    try:
        net = ipaddress.ip_network(cidr, strict=False)
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except (ValueError, OSError):
        return None
    for info in infos:
        ip = str(info[4][0])
        if ipaddress.ip_address(ip) in net:
            return ip
    return None


def connect(
    coordinator: Optional[str] = None,
    group: Optional[str] = None,
    instance: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
    connect_timeout_s: float = 60.0,
) -> RunEnv:
    """Registers this process as an instance; the arguments default to what tgc sets in its environment."""
    e = os.environ if env is None else env
    address = coordinator or e.get("TGC_COORDINATOR")
    if not address and e.get("SYNC_SERVICE_HOST"):
        address = "%s:%s" % (e["SYNC_SERVICE_HOST"], e.get("SYNC_SERVICE_PORT", "5050"))
    if not address:
        raise ValueError("no coordinator address: set TGC_COORDINATOR=host:port (tgc sets it inside every instance)")
    group = group or e.get("TGC_GROUP") or e.get("TEST_GROUP_ID")
    if not group:
        raise ValueError("no group: set TGC_GROUP (tgc sets it inside every instance)")
    instance = instance or e.get("TGC_INSTANCE")
    data_ip = e.get("TGC_DATA_IP") or address_in(e.get("TGC_DATA_SUBNET") or e.get("TEST_SUBNET"))
    client = Client.connect(address, connect_timeout_s)
    fields: Dict[str, Any] = {"role": "instance", "group": group}
    if instance:
        fields["instance"] = instance
    if data_ip:
        fields["data_ip"] = data_ip
    identity = client.request("register", **fields)
    return RunEnv(client, identity, e)


def run(body: Callable[[RunEnv], None], **options: Any) -> None:
    """Runs ``body`` as one instance: success when it returns, failure (with the exception) when it
    raises. Exits the process: 0 on success, 1 otherwise, 1 early when the run ends first."""
    try:
        env = connect(**options)
    except (ValueError, OSError, CoordinatorError) as err:
        sys.stderr.write("tgc: %s\n" % err)
        sys.exit(1)
    finished = False

    def stopped(stop: Dict[str, Any]) -> None:
        if not finished:
            reason = stop.get("reason")
            sys.stderr.write(
                "tgc: the run ended before this instance finished (%s%s)\n"
                % (stop.get("outcome"), ": %s" % reason if reason else "")
            )
            sys.stderr.flush()
            os._exit(1)

    env.on_stop(stopped)
    code = 0
    try:
        body(env)
        finished = True
        env.success()
    except Exception as err:  # noqa: BLE001 -- any failure of the body is the instance's failure
        finished = True
        code = 1
        reason = str(err) or type(err).__name__
        sys.stderr.write("tgc: %s failed: %s\n" % (env.name, reason))
        try:
            env.failure(reason)
        except (OSError, CoordinatorError):
            pass
    env.close()
    sys.exit(code)
