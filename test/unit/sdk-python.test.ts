// The Python SDK's own tests (sdk/python/tests, unittest, against a real `tgc coordinator`),
// run with the machine's Python as part of the suite.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/helpers.js';

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const skip = python.error ? 'needs python3 (3.9 or later) on PATH' : undefined;

test('the Python SDK: python3 -m unittest discover -s sdk/python/tests', { skip, timeout: 120_000 }, () => {
  const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-v', '-s', join(repoRoot, 'sdk/python/tests')], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 110_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const ran = /Ran (\d+) tests?/.exec(r.stderr);
  assert.ok(ran && Number(ran[1]) >= 5, r.stderr);
  assert.match(r.stderr, /\nOK\n?$/);
});
