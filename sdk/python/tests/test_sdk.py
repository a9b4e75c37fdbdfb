"""The Python SDK against a real coordinator (`tgc coordinator`, from the repository's dist/)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import unittest
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TGC = os.path.join(REPO, "dist", "tgc.mjs")

from tgc_sdk import CoordinatorError, connect  # noqa: E402


class Coordinator:
    """`tgc coordinator` on a free loopback port; its results JSON once the run ends."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            ["node", TGC, "coordinator", "--port", "0", "--linger", "0s", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stderr.readline() if self.proc.stderr else ""
        m = re.search(r"listening on (\S+),", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("the coordinator did not start: %r" % line)
        self.address = m.group(1)

    def results(self) -> Dict[str, Any]:
        out, _ = self.proc.communicate(timeout=30)
        return json.loads(out)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def in_threads(n: int, body: Any) -> List[Any]:
    """Runs body(i) in n threads at once; their results in order (re-raising the first error)."""
    out: List[Any] = [None] * n
    errors: List[BaseException] = []

    def go(i: int) -> None:
        try:
            out[i] = body(i)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if errors:
        raise errors[0]
    return out


class SdkTest(unittest.TestCase):
    def coordinator(self, *args: str) -> Coordinator:
        c = Coordinator(*args)
        self.addCleanup(c.stop)
        return c

    def test_identity_barriers_topics_records_and_outcomes(self) -> None:
        c = self.coordinator("--instances", "3", "--groups", "py=3", "--plan", "py-test")

        def instance(i: int) -> Dict[str, Any]:
            env = connect(coordinator=c.address, group="py", env={"TGC_PARAMS": '{"k": %d}' % i})
            count = env.sync.signal_and_wait("ready")
            sub = env.sync.publish_subscribe("names", {"name": env.name})
            names = sorted(m["name"] for m in sub.take(3))
            env.record("latency_ms", 10.0 * (i + 1), "ms")
            env.message("hello from %s" % env.name)
            env.network.wait_ready()  # no agents: at once
            with self.assertRaises(CoordinatorError) as raised:
                env.network.configure({"latency": "10ms"})
            self.assertEqual(raised.exception.code, "no_agent")
            with self.assertRaises(CoordinatorError) as raised:
                env.network.configure({"latency": "10ms"}, to="py-0")
            self.assertEqual(raised.exception.code, "no_agent")
            env.success()
            seen = {"name": env.name, "seq": env.seq, "group_seq": env.group_seq, "count": count}
            seen.update(names=names, instances=env.instances, params=env.params, plan=env.plan)
            env.close()
            return seen

        got = in_threads(3, instance)
        self.assertEqual(sorted(g["seq"] for g in got), [1, 2, 3])
        self.assertEqual(sorted(g["count"] for g in got), [1, 2, 3])
        for g in got:
            self.assertEqual(g["names"], ["py-0", "py-1", "py-2"])
            self.assertEqual(g["instances"], 3)
            self.assertEqual(g["plan"], "py-test")
            self.assertEqual(g["name"], "py-%d" % (g["group_seq"] - 1))
        self.assertEqual(sorted(g["params"]["k"] for g in got), [0, 1, 2])
        results = c.results()
        self.assertEqual(results["outcome"], "success")
        latency = results["groups"]["py"]["metrics"]["latency_ms"]
        self.assertEqual((latency["count"], latency["min"], latency["max"], latency["unit"]), (3, 10.0, 30.0, "ms"))
        for inst in results["instances"]:
            self.assertEqual(inst["messages"], ["hello from %s" % inst["name"]])

    def test_subscriptions_replay_from_the_first_message_in_order(self) -> None:
        c = self.coordinator("--instances", "1")
        env = connect(coordinator=c.address, group="g")
        for i in range(5):
            self.assertEqual(env.sync.publish("t", {"i": i}), i + 1)
        sub = env.sync.subscribe("t")
        self.assertEqual([m["i"] for m in sub.take(3)], [0, 1, 2])
        self.assertEqual(sub.next()["i"], 3)
        threading.Timer(0.2, lambda: env.sync.publish("t", {"i": 5})).start()
        self.assertEqual([m["i"] for m in sub.take(2, timeout_s=5)], [4, 5])
        with self.assertRaises(TimeoutError):
            sub.take(1, timeout_s=0.2)
        env.success()
        env.close()

    def test_a_failure_decides_the_run_with_its_reason(self) -> None:
        c = self.coordinator("--instances", "2")
        a = connect(coordinator=c.address, group="g")
        b = connect(coordinator=c.address, group="g")
        stops: List[Dict[str, Any]] = []
        a.on_stop(stops.append)
        b.failure("the answer was 41")
        results = c.results()
        self.assertEqual(results["outcome"], "failure")
        self.assertEqual(results["reason"], "g-1 failed: the answer was 41")
        # The other instance was told the run ended.
        deadline = threading.Event()
        for _ in range(50):
            if stops:
                break
            deadline.wait(0.1)
        self.assertEqual([s["outcome"] for s in stops], ["failure"])
        a.close()
        b.close()

    def test_refusals_are_coordinator_errors_with_their_code(self) -> None:
        c = self.coordinator("--instances", "1", "--groups", "a=1")
        with self.assertRaises(CoordinatorError) as raised:
            connect(coordinator=c.address, group="nope")
        self.assertEqual(raised.exception.code, "unknown_group")
        with self.assertRaises(ValueError):
            connect(env={})

    def test_run_reports_success_or_the_exception_and_exits_accordingly(self) -> None:
        for body, code, outcome in [("pass", 0, "success"), ("raise RuntimeError('no quorum')", 1, "failure")]:
            c = self.coordinator("--instances", "1")
            program = "from tgc_sdk import run\ndef test(env):\n    %s\nrun(test)\n" % body
            env = dict(os.environ, TGC_COORDINATOR=c.address, TGC_GROUP="g", PYTHONPATH=os.path.dirname(HERE))
            done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=30)
            self.assertEqual(done.returncode, code, done.stderr)
            results = c.results()
            self.assertEqual(results["instances"][0]["outcome"], outcome)
            if code:
                self.assertEqual(results["instances"][0]["reason"], "no quorum")


if __name__ == "__main__":
    unittest.main()
