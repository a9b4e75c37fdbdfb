"""The seed scenario with tgc's Python SDK: every runner publishes its data address, then pings
every other runner over the data network (UDP echo) and records the median round trip."""

import os
import socket
import sys
import threading
import time
import uuid

try:
    from tgc_sdk import RunEnv, run
except ImportError:  # run from a checkout of tgc: the SDK is in sdk/python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))
    from tgc_sdk import RunEnv, run

ECHO_PORT = 9000


def echo_forever(sock: socket.socket) -> None:
    while True:
        try:
            data, peer = sock.recvfrom(2048)
        except OSError:
            return
        sock.sendto(data, peer)


def ping_once(sock: socket.socket, ip: str) -> float:
    """One UDP echo round trip to ip, in ms."""
    token = uuid.uuid4().bytes
    t0 = time.perf_counter()
    sock.sendto(token, (ip, ECHO_PORT))
    while True:
        data, _ = sock.recvfrom(2048)
        if data == token:
            return (time.perf_counter() - t0) * 1000


def test(env: RunEnv) -> None:
    env.network.wait_ready()
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind((env.data_ip, ECHO_PORT))
    threading.Thread(target=echo_forever, args=(echo,), daemon=True).start()

    sub = env.sync.publish_subscribe("addresses", {"name": env.name, "ip": env.data_ip})
    peers = [p for p in sub.take(env.instances) if p["name"] != env.name]
    env.sync.signal_and_wait("listening")

    rounds = int(env.params.get("rounds", 3))
    pinger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pinger.bind((env.data_ip, 0))
    pinger.settimeout(10)
    for peer in peers:
        rtts = sorted(ping_once(pinger, peer["ip"]) for _ in range(rounds))
        median = rtts[len(rtts) // 2]
        env.record("rtt_ms", median, "ms")
        env.message("%s -> %s (%s): %s ms" % (env.name, peer["name"], peer["ip"], ", ".join("%.1f" % r for r in rtts)))
        print("rtt to %s: %.1f ms (median of %d)" % (peer["name"], median, rounds), flush=True)
    pinger.close()
    # Keep answering until everyone has measured.
    env.sync.signal_and_wait("measured")
    echo.close()


run(test)
