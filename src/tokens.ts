/** Injection tokens for things that are not classes. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const CLOCK = Symbol('CLOCK');
export const RUN_QUEUE = Symbol('RUN_QUEUE');
export const SCHEDULE_TRIGGER = Symbol('SCHEDULE_TRIGGER');
