import { jestConfig } from './jest.base.js';
export default jestConfig({
  name: 'conformance',
  testMatch: ['<rootDir>/test/conformance/**/*.conformance.spec.ts'],
  testTimeout: 120_000,
});
