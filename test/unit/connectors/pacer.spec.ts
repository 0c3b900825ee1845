import { jest } from '@jest/globals';
import {
  FatalError,
  RateLimitedError,
  TransientError,
} from '../../../src/connectors/connector.errors.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../src/connectors/pacer/backoff.js';
import { Pacer } from '../../../src/connectors/pacer/pacer.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('Pacer', () => {
  it('should retry a transient error and return the later success', async () => {
    const clock = new FakeClock();
    const sut = new Pacer({ clock, random: () => 0 });
    const fn = jest
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new TransientError('503'))
      .mockResolvedValueOnce('ok');

    await expect(sut.call('get', fn)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(2);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('should wait at least the Retry-After the provider asked for', async () => {
    const clock = new FakeClock();
    const sut = new Pacer({ clock, random: () => 0 });
    const fn = jest
      .fn<() => Promise<number>>()
      .mockRejectedValueOnce(new RateLimitedError('429', { retryAfterMs: 7_000 }))
      .mockResolvedValueOnce(1);

    await sut.call('list', fn);
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('should not retry an error that is not retryable', async () => {
    const sut = new Pacer({ clock: new FakeClock() });
    const fn = jest.fn<() => Promise<void>>().mockRejectedValue(new FatalError('403 forbidden'));

    await expect(sut.call('get', fn)).rejects.toBeInstanceOf(FatalError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('should not retry a plain Error', async () => {
    const sut = new Pacer({ clock: new FakeClock() });
    const fn = jest.fn<() => Promise<void>>().mockRejectedValue(new Error('bug'));

    await expect(sut.call('get', fn)).rejects.toThrow('bug');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('should give up with the last error when the retries are spent', async () => {
    const clock = new FakeClock();
    const sut = new Pacer({ clock, maxRetries: 3 });
    const fn = jest.fn<() => Promise<void>>().mockRejectedValue(new TransientError('still down'));

    await expect(sut.call('get', fn)).rejects.toThrow('still down');
    expect(fn).toHaveBeenCalledTimes(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it('should tell the retry listener about every retry', async () => {
    const events: string[] = [];
    const sut = new Pacer({
      clock: new FakeClock(),
      onRetry: (e) => events.push(`${e.label}#${e.attempt}:${e.error.code}`),
    });
    const fn = jest
      .fn<() => Promise<void>>()
      .mockRejectedValueOnce(new TransientError('a'))
      .mockRejectedValueOnce(new RateLimitedError('b'))
      .mockResolvedValueOnce();

    await sut.call('upload', fn);
    expect(events).toEqual(['upload#1:TRANSIENT', 'upload#2:RATE_LIMITED']);
  });

  it('should stop retrying when the signal is aborted', async () => {
    const controller = new AbortController();
    const sut = new Pacer({ clock: new FakeClock() });
    const fn = jest.fn<() => Promise<void>>().mockImplementation(async () => {
      controller.abort();
      throw new TransientError('x');
    });

    await expect(sut.call('get', fn, controller.signal)).rejects.toThrow('x');
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('backoffDelay', () => {
  it('should grow exponentially up to the cap', () => {
    const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(noJitter, a, undefined))).toEqual([
      250, 500, 1000, 2000,
    ]);
    expect(backoffDelay(noJitter, 30, undefined)).toBe(noJitter.maxMs);
  });

  it('should never go below the provider Retry-After', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 1, 60_000, () => 1)).toBe(60_000);
  });
});
