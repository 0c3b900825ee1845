import {
  InvalidOptionsError,
  publicOptions,
  validateConnectorOptions,
} from '../../../src/connectors/connector-options.js';
import type { ConnectorDescriptor } from '../../../src/connectors/connector-descriptor.js';
import { localConnectorDescriptor } from '../../../src/connectors/local/index.js';

const descriptor: ConnectorDescriptor = {
  ...localConnectorDescriptor,
  kind: 'demo',
  options: [
    { key: 'host', label: 'Host', help: '', type: 'string', required: true },
    { key: 'port', label: 'Port', help: '', type: 'number', default: 22 },
    { key: 'password', label: 'Password', help: '', type: 'string', secret: true },
  ],
};

describe('validateConnectorOptions', () => {
  it('should split secrets from config and fill defaults', () => {
    expect(validateConnectorOptions(descriptor, { host: 'nas', password: 'pw' })).toEqual({
      config: { host: 'nas', port: 22 },
      secrets: { password: 'pw' },
    });
  });

  it('should report unknown, missing and mistyped options together', () => {
    expect(() => validateConnectorOptions(descriptor, { port: '22', colour: 1 })).toThrow(
      new InvalidOptionsError([
        "options.colour is not an option of 'demo'",
        'options.host is required (Host)',
        'options.port must be a number',
      ]),
    );
  });

  it('should keep stored secrets, including non-option tokens, when an update leaves them empty', () => {
    const previous = {
      config: { host: 'nas', port: 22 },
      secrets: { password: 'old', refreshToken: 'rt' },
    };
    expect(
      validateConnectorOptions(descriptor, { host: 'nas2', password: '' }, previous).secrets,
    ).toEqual({
      password: 'old',
      refreshToken: 'rt',
    });
  });

  it('should mask secrets in what the API shows', () => {
    expect(
      publicOptions(descriptor, { config: { host: 'nas' }, secrets: { password: 'pw' } }),
    ).toEqual({ host: 'nas', password: '********' });
  });
});
