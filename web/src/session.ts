import { api, apiHooks, type Session, type SignedIn, type User } from './api.js';

/**
 * Who is signed in, and the CSRF token the server gave with the session. Every state-changing
 * request carries the token (`X-CSRF-Token`); a 401 from any call means the session is gone.
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A 401 from these answers a form (wrong password), not an ended session. */
const CREDENTIAL_PATHS = new Set(['/api/auth/login', '/api/auth/setup']);

let session: Session | undefined;
const listeners: (() => void)[] = [];

export function currentSession(): Session | undefined {
  return session;
}

export function currentUser(): User | null {
  return session?.user ?? null;
}

export function isAdmin(): boolean {
  return session?.user?.role === 'admin';
}

/** Called whenever the signed-in user changes (the header redraws itself). */
export function onSessionChange(fn: () => void): void {
  listeners.push(fn);
}

function set(next: Session): void {
  session = next;
  for (const fn of listeners) fn();
}

export async function loadSession(): Promise<Session> {
  set(await api.auth.session());
  return session!;
}

export function signedIn(answer: SignedIn): void {
  set({ setupRequired: false, user: answer.user, csrfToken: answer.csrfToken });
}

export function signedOut(): void {
  set({ setupRequired: false, user: null, csrfToken: null });
}

/**
 * Wires the session into the API client. `onSignedOut` gets the hash route the user was on,
 * to come back to it after signing in again.
 */
export function installSessionHooks(onSignedOut: () => void, onUserChanged: () => void): void {
  apiHooks.beforeRequest = (headers, method) => {
    const token = session?.csrfToken;
    if (token && !SAFE_METHODS.has(method.toUpperCase())) headers.set('X-CSRF-Token', token);
  };
  apiHooks.onUnauthorized = (_error, path) => {
    if (CREDENTIAL_PATHS.has(path)) return;
    if (session?.user) signedOut();
    onSignedOut();
  };
  // Signing in again in another tab gives the browser a new session cookie, and with it a new
  // CSRF token: fetch it, so the next try of the refused form works.
  apiHooks.onCsrfRejected = () => {
    const before = session?.user?.id;
    loadSession().then(
      (s) => {
        if (!s.user) onSignedOut();
        else if (s.user.id !== before) onUserChanged();
      },
      () => undefined, // the refused form shows its own error already
    );
  };
}
