// Jest runs in ESM mode (node --experimental-vm-modules, ts-jest useESM): NestJS 12 ships as ES
// modules, which Jest's CommonJS loader cannot load. Type-checking is `npm run typecheck`'s job;
// ts-jest only transpiles (isolatedModules) so the suites start quickly.
export function jestConfig({ name, testMatch, testTimeout = 30_000, setupFiles = [] }) {
  return {
    displayName: name,
    rootDir: '..',
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    testMatch,
    testTimeout,
    setupFiles: ['<rootDir>/test/setup-reflect.ts', ...setupFiles],
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    transform: {
      '^.+\\.ts$': [
        'ts-jest',
        { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json', diagnostics: false },
      ],
    },
  };
}
