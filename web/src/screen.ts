/** What a screen gets from the router. */
export interface ScreenContext {
  /** The route's captured parts (ids). */
  params: string[];
  /** Parameters after `?` in the hash. */
  query: URLSearchParams;
  /** Cleanup when the user leaves the screen (event streams, timers). */
  onLeave(fn: () => void): void;
  /** False once the user went elsewhere: late answers must not draw. */
  isCurrent(): boolean;
}

export type Screen = (root: HTMLElement, ctx: ScreenContext) => Promise<void> | void;

export function go(hash: string): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
