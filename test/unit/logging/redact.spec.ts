import { Writable } from 'node:stream';
import { EngineLogger } from '../../../src/logging/engine-logger.js';
import { redactText, redactValue } from '../../../src/logging/redact.js';

describe('redactText', () => {
  it.each([
    ['Authorization: Bearer abc.def-123', 'Bearer [redacted]'],
    ['token cbe_0123456789abcdef used', 'token [redacted] used'],
    ['postgres://cbe:hunter22@db:5432/x', 'postgres://cbe:[redacted]@db:5432/x'],
    ['GET /cb?code=4/abc&state=xyz', 'GET /cb?code=[redacted]&state=[redacted]'],
    ['key AKIAABCDEFGHIJKLMNOP here', 'key [redacted] here'],
  ])('should mask the secret in %s', (input, expected) => {
    expect(redactText(input)).toContain(expected);
  });

  it('should mask known values wherever they appear', () => {
    expect(redactText('smtp said: bad password s3cr3t-value!', ['s3cr3t-value'])).toBe(
      'smtp said: bad password [redacted]!',
    );
  });
});

describe('redactValue', () => {
  it('should mask fields named like secrets at any depth and keep the rest', () => {
    const sut = redactValue({
      kind: 's3',
      options: { accessKeyId: 'AKIA', secretAccessKey: 'x', nested: { refreshToken: 'y' } },
      code: 'ECONNRESET',
    });
    expect(sut).toEqual({
      kind: 's3',
      options: {
        accessKeyId: '[redacted]',
        secretAccessKey: '[redacted]',
        nested: { refreshToken: '[redacted]' },
      },
      code: 'ECONNRESET',
    });
  });
});

describe('EngineLogger', () => {
  it('should write one JSON object a line with the context and mask secrets in messages', () => {
    let out = '';
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        out += c.toString();
        cb();
      },
    });
    const sut = new EngineLogger({
      level: 'info',
      format: 'json',
      secrets: ['very-secret-1'],
      destination: sink,
    });
    sut.log('connected with very-secret-1', 'Accounts');
    sut.log('Mapped {/api/x, GET} route', 'RouterExplorer');
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      context: 'Accounts',
      msg: 'connected with [redacted]',
    });
  });
});
