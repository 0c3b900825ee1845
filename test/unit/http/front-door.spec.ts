import { isSignInPath } from '../../../src/http/front-door.js';

describe('isSignInPath', () => {
  it.each([
    '/api/auth/login',
    '/api/auth/setup',
    '/api/auth/login?next=/tasks',
    '/api/auth/login/',
    '/API/Auth/Login',
    '/api/auth/SETUP/?x=1',
  ])('should send %s through the sign-in gate, as Express routes it to a sign-in', (url) => {
    expect(isSignInPath(url)).toBe(true);
  });

  it.each(['/api/auth/session', '/api/auth/logout', '/api/auth/login//', '/api/auth/loginx', '/'])(
    'should leave %s to Express',
    (url) => {
      expect(isSignInPath(url)).toBe(false);
    },
  );
});
