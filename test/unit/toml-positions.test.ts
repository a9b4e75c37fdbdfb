import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanTomlPositions } from '../../compiler/parse-toml.js';
import { lineCol, sourceFile } from '../../compiler/source.js';

const text = `# comment with [brackets] and = signs
title = """
multi [line] = "string"
"""  # trailing
"quoted key".inner = 'lit#eral'
a.b.c = [1, [2, 3], { x = "}" }]

[[groups]]
id = "one"
[groups.network]
latency = "1ms"

[[groups]]
id = "two"
params = { deep = { k = 1 }, list = [ 'a',
  'b' ] }

[[groups.sub]]
n = 1
`;

test('the TOML scanner finds every key and value where it is written', () => {
  const file = sourceFile('x.toml', text);
  const { positions, duplicates } = scanTomlPositions(text);
  const at = (path: string, which: 'key' | 'value') => {
    const loc = positions.get(path);
    assert.ok(loc, `no position for ${path}`);
    const range = which === 'key' ? loc.key! : loc.value;
    const { line, col } = lineCol(file, range.start);
    return `${line}:${col} ${text.slice(range.start, range.end)}`;
  };
  assert.equal(at('/title', 'key'), '2:1 title');
  assert.equal(at('/quoted key', 'key'), '5:1 "quoted key"');
  assert.equal(at('/quoted key/inner', 'value'), "5:22 'lit#eral'");
  assert.equal(at('/a/b/c', 'value'), '6:9 [1, [2, 3], { x = "}" }]');
  assert.equal(at('/a/b/c/1/0', 'value'), '6:14 2');
  assert.equal(at('/a/b/c/2/x', 'value'), '6:27 "}"');
  assert.equal(at('/groups/0/id', 'value'), '9:6 "one"');
  assert.equal(at('/groups/0/network', 'key'), '10:9 network');
  assert.equal(at('/groups/0/network/latency', 'value'), '11:11 "1ms"');
  assert.equal(at('/groups/1', 'value'), '13:1 [[groups]]');
  assert.equal(at('/groups/1/params/deep/k', 'value'), '15:25 1');
  assert.equal(at('/groups/1/params/list/1', 'value'), "16:3 'b'");
  assert.equal(at('/groups/1/sub/0/n', 'value'), '19:5 1');
  assert.deepEqual(duplicates, []);
});

test('the TOML scanner reports keys and tables defined twice', () => {
  const { duplicates } = scanTomlPositions('a = 1\n[t]\nx = 1\n[t]\ny = 2\n[u]\nz = 1\nz = 2\n');
  assert.deepEqual(
    duplicates.map((r) => r.start),
    [17, 36],
  );
});
