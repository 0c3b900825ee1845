import type { NextFunction, Request, Response } from 'express';

/**
 * Sign-ins in flight per client address: a person has one at a time, a flood has hundreds. Past
 * the limit a sign-in is refused before its body is even parsed, so a burst costs the engine
 * almost nothing and the throttle (LoginThrottle, which counts attempts before hashing) sees
 * only a few of them.
 */
export class LoginGate {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly maxPerAddress = 4) {}

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (
      req.method !== 'POST' ||
      (req.path !== '/api/auth/login' && req.path !== '/api/auth/setup')
    ) {
      return next();
    }
    const address = req.ip ?? 'unknown';
    const n = this.inFlight.get(address) ?? 0;
    if (n >= this.maxPerAddress) {
      res.setHeader('Retry-After', '1');
      res.status(429).json({
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'too many sign-ins at once from your address: try again in 1 s',
      });
      return;
    }
    this.inFlight.set(address, n + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(address) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(address);
      else this.inFlight.set(address, left);
    };
    res.on('finish', release);
    res.on('close', release);
    next();
  };
}
