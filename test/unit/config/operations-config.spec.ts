import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/app-config.js';
import { CONFIG_VARIABLES, formatConfigHelp } from '../../../src/config/config-variables.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('address and operations variables', () => {
  it.each([
    ['PUBLIC_URL', 'notaurl'],
    ['PUBLIC_URL', 'ftp://backup.example.com'],
    ['TRUST_PROXY', 'banana'],
    ['TRUST_PROXY', '10.0.0.0/99'],
    ['HOST', '999.1.1.1'],
    ['HOST', 'not a host'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'xml'],
    ['METRICS_TOKEN', 'short'],
    ['HEALTH_MIN_FREE_MB', '-1'],
  ])('should refuse %s=%s with one line naming the variable', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name} `));
    expect(problems[0]).not.toContain('\n');
  });

  it.each([
    ['PUBLIC_URL', 'https://backup.example.com/cbe'],
    ['TRUST_PROXY', 'loopback, 10.0.0.0/8, 192.168.1.1'],
    ['TRUST_PROXY', '2'],
    ['TRUST_PROXY', 'true'],
    ['HOST', '::'],
    ['HOST', 'localhost'],
    ['LOG_FORMAT', 'json'],
  ])('should accept %s=%s', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([]);
  });

  it('should describe every variable the configuration reads', () => {
    // The variables named in the loaders' sources, against the --help table.
    const sources = ['app-config.ts', 'operations-config.ts']
      .map((f) => readFileSync(resolve(import.meta.dirname, '../../../src/config', f), 'utf8'))
      .join('\n');
    const read = new Set<string>();
    for (const m of sources.matchAll(/env(?:\.|\[')([A-Z][A-Z0-9_]+)|'([A-Z][A-Z0-9_]{2,})'/g)) {
      read.add((m[1] ?? m[2])!);
    }
    const described = new Set(CONFIG_VARIABLES.map((v) => v.name));
    const missing = [...read].filter((n) => !described.has(n) && !/^[A-Z]$/.test(n));
    expect(missing).toEqual([]);
  });

  it('should list every variable in the help text', () => {
    const sut = formatConfigHelp('usage');
    for (const v of CONFIG_VARIABLES) expect(sut).toContain(v.name);
  });
});
