import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeOf } from '../../runtime/agent/peer-places.js';
import type { WireEndpoint } from '../../runtime/shaping/wire.js';

/** The endpoints topic read from its first entry, as a host's agent that starts following it does. */
function replay(entries: unknown[], here: string, local: Map<string, WireEndpoint>): Map<string, WireEndpoint> {
  const byName = new Map<string, WireEndpoint>();
  for (const e of entries) {
    const place = placeOf(e, here, local);
    if (place) byName.set(place.name, place);
  }
  return byName;
}

test('agents: an instance that restarted onto this host is here, though the topic names its earlier host first', () => {
  const local = new Map([['srv-1', { name: 'srv-1', ip: '198.18.0.3', host: '127.0.0.1', port: 7102 }]]);
  const topic = [
    { name: 'checker-0', ip: '198.18.0.2', host: '198.19.161.4', port: 7100 },
    { name: 'srv-1', ip: '198.18.0.3', host: '198.19.161.4', port: 7100 }, // its first life, on node2
    { name: 'srv-1', ip: '198.18.0.3', host: '198.19.161.3', port: 7100 }, // restarted here, node1
  ];
  const places = replay(topic, '198.19.161.3', local);
  assert.deepEqual(places.get('srv-1'), local.get('srv-1'), 'its own endpoint on this host, not node2');
  assert.equal(places.get('checker-0')?.host, '198.19.161.4');
  assert.equal(places.get('checker-0')?.remote, true);
});

test('agents: an instance that moved away from this host is where it went', () => {
  const local = new Map([['srv-1', { name: 'srv-1', ip: '198.18.0.3', host: '127.0.0.1', port: 7102 }]]);
  const topic = [
    { name: 'srv-1', ip: '198.18.0.3', host: '198.19.161.3', port: 7100 }, // here first
    { name: 'srv-1', ip: '198.18.0.3', host: '198.19.161.5', port: 7100 }, // then on node3
  ];
  assert.equal(replay(topic, '198.19.161.3', local).get('srv-1')?.host, '198.19.161.5');
});

test('agents: entries that are not places, or name an instance this host never had, change nothing', () => {
  const here = '198.19.161.3';
  for (const e of [null, 'x', { name: 'a' }, { name: 'a', ip: '198.18.0.9', host: here, port: 'x' }])
    assert.equal(placeOf(e, here, new Map()), undefined, JSON.stringify(e));
  assert.equal(placeOf({ name: 'a', ip: '198.18.0.9', host: here, port: 7100 }, here, new Map()), undefined);
});
