import { jestConfig } from './jest.base.js';
export default jestConfig({
  name: 'integration',
  testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
  testTimeout: 120_000,
});
