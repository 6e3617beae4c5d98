/** The node id: from config, else generated once into the data dir and kept across restarts. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/apps/config.js';
import { generateNodeId, loadNodeId, NODE_ID_FILE } from '../../src/apps/node-id.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-node-id-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('node id', () => {
  it('is generated once into the data dir (0600) and read back on the next start', () => {
    const config = loadConfig({ overrides: { dataDir: dir } });
    const first = loadNodeId(config);
    assert.match(first, /^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{8}$/);
    assert.equal(loadNodeId(config), first);
    assert.equal(readFileSync(join(dir, NODE_ID_FILE), 'utf8').trim(), first);
    assert.equal(statSync(join(dir, NODE_ID_FILE)).mode & 0o777, 0o600);
  });

  it('config node.id (or CONTINUUM_NODE_ID, --node-id) wins, and is validated', () => {
    assert.equal(loadNodeId(loadConfig({ overrides: { dataDir: dir, node: { id: 'edge-7' } } })), 'edge-7');
    assert.equal(loadConfig({ env: { CONTINUUM_NODE_ID: 'n2' } }).node.id, 'n2');
    assert.equal(loadConfig({ flags: { 'node-id': 'n3' } }).node.id, 'n3');
    assert.throws(() => loadConfig({ env: { CONTINUUM_NODE_ID: 'has space' } }), ConfigError);
    assert.throws(() => loadConfig({ overrides: { node: { id: 'x'.repeat(65) } } }), ConfigError);
    assert.throws(() => loadConfig({ overrides: { node: { id: '-leading' } } }), ConfigError);
  });

  it('a damaged node-id file stops the start with its path', () => {
    const other = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(other, NODE_ID_FILE), 'not valid!\n');
    assert.throws(() => loadNodeId(loadConfig({ overrides: { dataDir: other } })), /node-id/);
  });

  it('a generated id fits the pattern whatever the host name', () => {
    for (const host of ['db-1.example.com', 'Ünïcode host', '---', '', 'x'.repeat(200)]) {
      const id = generateNodeId(host);
      assert.match(id, /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, host);
    }
  });
});
