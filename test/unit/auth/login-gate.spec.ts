import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { jest } from '@jest/globals';
import {
  InMemoryLoginGateStore,
  LoginGate,
  OnePerTurn,
  type LoginGateStore,
} from '../../../src/auth/login-gate.js';

function aResponse() {
  const events = new EventEmitter();
  const res = Object.assign(events, {
    statusCode: 200,
    headers: {} as Record<string, string>,
    body: '',
    writeHead(code: number, headers: Record<string, string>) {
      this.statusCode = code;
      this.headers = headers;
      return this;
    },
    end(body: Buffer) {
      this.body = body.toString();
      events.emit('finish');
      events.emit('close');
    },
  });
  return { res, response: res as unknown as ServerResponse };
}

/** Whether the gate let one sign-in from `ip` on, once the turns it waits for have passed. */
async function pass(gate: LoginGate, r = aResponse(), ip = '10.0.0.1'): Promise<boolean> {
  const next = jest.fn();
  gate.admit(r.response, ip, next);
  await turns(2);
  return next.mock.calls.length === 1;
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('LoginGate', () => {
  it('should refuse a sign-in past the in-flight limit of its address until one finishes', async () => {
    const gate = new LoginGate(new InMemoryLoginGateStore(), 2);
    const [a, b, c] = [aResponse(), aResponse(), aResponse()];

    expect([await pass(gate, a), await pass(gate, b), await pass(gate, c)]).toEqual([
      true,
      true,
      false,
    ]);
    expect([c.res.statusCode, c.res.headers['retry-after']]).toEqual([429, '1']);
    expect(JSON.parse(c.res.body)).toMatchObject({ message: /too many sign-ins at once/ });
    expect(await pass(gate, aResponse(), '10.0.0.2')).toBe(true);

    a.res.emit('finish');
    a.res.emit('close'); // counted once
    expect(await pass(gate)).toBe(true);
    expect(await pass(gate)).toBe(false);
  });

  it('should count sign-ins waiting for their turn, so a burst read in one turn reaches Express four times', async () => {
    const gate = new LoginGate(new InMemoryLoginGateStore(), 4);
    const burst = Array.from({ length: 300 }, () => aResponse());
    // Express and the throttle refuse at once: nothing in their way waits for I/O.
    const express = jest.fn((r: ReturnType<typeof aResponse>) => r.response.end(Buffer.from('')));

    for (const r of burst) {
      gate.admit(r.response, '203.0.113.66', () => express(r));
      // Node runs the microtasks after each socket's callback, before reading the next one.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    await turns(6);

    expect(express).toHaveBeenCalledTimes(4);
    expect(burst.filter((r) => r.res.statusCode === 429)).toHaveLength(296);
  });

  it('should refuse without asking the store when this node alone holds the limit', async () => {
    const store = new InMemoryLoginGateStore();
    const enter = jest.spyOn(store, 'enter');
    const gate = new LoginGate(store, 4);

    for (let i = 0; i < 300; i++) gate.admit(aResponse().response, '203.0.113.66', () => {});

    // A Redis store is a round trip per call: a burst costs four, not 300.
    expect(enter).toHaveBeenCalledTimes(4);
  });

  it('should give the place back of a client that left before the store answered', async () => {
    let answer!: (entered: boolean) => void;
    const store = new InMemoryLoginGateStore();
    const leave = jest.spyOn(store, 'leave');
    jest.spyOn(store, 'enter').mockReturnValueOnce(new Promise((r) => (answer = r)));
    const gate = new LoginGate(store, 1);
    const gone = aResponse();
    const next = jest.fn();

    gate.admit(gone.response, '10.0.0.1', next);
    gone.res.emit('close');
    answer(true);
    await turns(2);

    expect([next.mock.calls.length, leave.mock.calls.length]).toEqual([0, 1]);
    expect(await pass(gate)).toBe(true);
  });

  it('should not hand on a sign-in whose client left while it waited for its turn', async () => {
    const gate = new LoginGate(new InMemoryLoginGateStore(), 4);
    const gone = aResponse();
    const next = jest.fn();

    gate.admit(gone.response, '10.0.0.1', next);
    await Promise.resolve(); // the store answered; the turn has not come yet
    gone.res.emit('close');
    await turns(2);

    expect(next).not.toHaveBeenCalled();
  });

  it('should let a sign-in on to the throttle when its store is unreachable', async () => {
    const down: LoginGateStore = {
      enter: () => Promise.reject(new Error('Redis down')),
      leave: () => Promise.resolve(),
    };
    const gate = new LoginGate(down);

    expect(await pass(gate)).toBe(true);
  });
});

describe('OnePerTurn', () => {
  it('should run queued callbacks in order, one per turn of the event loop', async () => {
    const sut = new OnePerTurn();
    const seen: string[] = [];

    sut.run(() => seen.push('a'));
    sut.run(() => seen.push('b'));
    sut.run(() => seen.push('c'));
    setImmediate(() => seen.push('io'));
    await turns(4);

    expect(seen).toEqual(['a', 'io', 'b', 'c']);
  });
});
