import { jestConfig } from './jest.base.js';
export default jestConfig({
  name: 'e2e',
  testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
  testTimeout: 180_000,
});
