import { readFileSync } from 'node:fs';
import { ENGINE_NODE_FLAGS } from '../../../src/engine-flags.js';

describe('engine node flags', () => {
  it('should be the flags npm start and npm run worker launch the engine with', () => {
    const scripts = (
      JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const name of ['start', 'worker']) {
      for (const flag of ENGINE_NODE_FLAGS)
        expect({ name, has: scripts[name]?.includes(`node ${flag}`) }).toEqual({ name, has: true });
    }
  });
});
