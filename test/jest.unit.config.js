import { jestConfig } from './jest.base.js';
export default jestConfig({ name: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] });
