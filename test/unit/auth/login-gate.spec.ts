import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import type { NextFunction, Request, Response } from 'express';
import { InMemoryLoginGateStore, LoginGate } from '../../../src/auth/login-gate.js';

function aSignIn(ip = '10.0.0.1') {
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    setHeader: jest.fn(),
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    json: jest.fn(),
  });
  const req = { method: 'POST', path: '/api/auth/login', ip } as unknown as Request;
  return { req, res, response: res as unknown as Response };
}

async function pass(gate: LoginGate, s: ReturnType<typeof aSignIn>): Promise<boolean> {
  const next = jest.fn();
  gate.middleware(s.req, s.response, next as unknown as NextFunction);
  await new Promise((r) => setImmediate(r));
  return next.mock.calls.length === 1;
}

describe('LoginGate', () => {
  it('should refuse a sign-in past the in-flight limit of its address until one finishes', async () => {
    const gate = new LoginGate(new InMemoryLoginGateStore(), 2);
    const [a, b, c] = [aSignIn(), aSignIn(), aSignIn()];

    expect([await pass(gate, a), await pass(gate, b), await pass(gate, c)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(c.res.statusCode).toBe(429);
    expect(await pass(gate, aSignIn('10.0.0.2'))).toBe(true);

    a.res.emit('finish');
    a.res.emit('close'); // counted once
    expect(await pass(gate, aSignIn())).toBe(true);
    expect(await pass(gate, aSignIn())).toBe(false);
  });

  it('should give the place back of a client that left before the store answered', async () => {
    let answer!: (entered: boolean) => void;
    const store = new InMemoryLoginGateStore();
    const leave = jest.spyOn(store, 'leave');
    jest.spyOn(store, 'enter').mockReturnValueOnce(new Promise((r) => (answer = r)));
    const gate = new LoginGate(store, 1);
    const gone = aSignIn();
    const next = jest.fn();

    gate.middleware(gone.req, gone.response, next as unknown as NextFunction);
    gone.res.emit('close');
    answer(true);
    await new Promise((r) => setImmediate(r));

    expect([next.mock.calls.length, leave.mock.calls.length]).toEqual([0, 1]);
  });

  it('should let a sign-in on to the throttle when its store is unreachable', async () => {
    const gate = new LoginGate({
      enter: () => Promise.reject(new Error('Redis down')),
      leave: () => Promise.resolve(),
    });

    expect(await pass(gate, aSignIn())).toBe(true);
  });
});
