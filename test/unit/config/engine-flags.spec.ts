import { readFileSync } from 'node:fs';
import { ENGINE_NODE_FLAGS } from '../../../src/engine-flags.js';

describe('engine node flags', () => {
  it('should be the flags npm start and npm run worker launch the engine with', () => {
    const scripts = (
      JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    // All of them, in order, right after `node`: `node --a --b dist/src/main.js`.
    const launch = `node ${ENGINE_NODE_FLAGS.join(' ')} dist/src/main.js`;
    for (const name of ['start', 'worker'])
      expect({ name, has: scripts[name]?.includes(launch) }).toEqual({ name, has: true });
    expect(scripts.demo).toContain(`node ${ENGINE_NODE_FLAGS.join(' ')} dist/scripts/demo-cli.js`);
  });

  it('should be the flags the container image starts the engine with', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Containerfile', 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ...ENGINE_NODE_FLAGS, 'dist/src/main.js']);
  });
});
