import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * What the engine imports at start-up through the connector registry. A cloud SDK imported there
 * is held in memory by every engine, whether or not it has an account of that kind (~3 MiB of
 * live heap for googleapis, the Graph client and the Dropbox SDK; ~20 MiB of resident memory for
 * the AWS SDK, ssh2 and webdav): each kind imports its SDK when its connector is first used
 * (LazyConnector). The value imports are followed in the sources, as Node follows them.
 */
const SDKS = [
  '@aws-sdk/client-s3',
  '@microsoft/microsoft-graph-client',
  'dropbox',
  'googleapis',
  'google-auth-library',
  'ssh2',
  'webdav',
];

const VALUE_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function staticImports(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(VALUE_IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!packages.has(spec)) packages.set(spec, file);
    }
  };
  visit(resolve(entry));
  return { files, packages };
}

describe('the connector registry at start-up', () => {
  it('should import no cloud SDK until a connector of its kind is used', () => {
    const { files, packages } = staticImports('src/connectors/connector.registry.ts');
    expect(files.size).toBeGreaterThan(20);
    const loaded = [...packages]
      .filter(([p]) => SDKS.some((sdk) => p === sdk || p.startsWith(`${sdk}/`)))
      .map(([p, from]) => `${p} (from ${from.slice(resolve('.').length + 1)})`);
    expect(loaded).toEqual([]);
  });

  it('should find an SDK a connector module imports (the check sees what it looks for)', () => {
    const { packages } = staticImports('src/connectors/google-drive/google-drive.factory.ts');
    expect(packages.has('googleapis/build/src/apis/drive/index.js')).toBe(true);
  });
});
