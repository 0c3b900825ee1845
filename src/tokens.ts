/** Injection tokens for things that are not classes. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const CLOCK = Symbol('CLOCK');
export const RUN_QUEUE = Symbol('RUN_QUEUE');
export const SCHEDULE_TRIGGER = Symbol('SCHEDULE_TRIGGER');
/**
 * Ports with an in-process and a Redis adapter; src/ports/ports.module.ts chooses them, in one
 * place, from the configuration.
 */
export const RUN_QUEUE_FACTORY = Symbol('RUN_QUEUE_FACTORY');
export const RUN_EVENTS_SINK = Symbol('RUN_EVENTS_SINK');
export const RUN_LIVE_FEED = Symbol('RUN_LIVE_FEED');
export const RUN_CONTROL = Symbol('RUN_CONTROL');
export const OAUTH_STATE_STORE = Symbol('OAUTH_STATE_STORE');
export const NOTIFICATION_RATE = Symbol('NOTIFICATION_RATE');
/** The login throttle's counters and the in-flight sign-in gate's store (src/auth). */
export const LOGIN_LIMITERS = Symbol('LOGIN_LIMITERS');
export const LOGIN_GATE_STORE = Symbol('LOGIN_GATE_STORE');
