import type { RunEntity, RunKind, RunPhase } from '../tasks/entities/run.entity.js';
import type { RunRecorder } from './run-recorder.js';

/**
 * Executes the runs of one kind: its own plan-and-transfer loop, nothing else. The dispatcher
 * marks the run running before, and records the end after: returning without having called
 * `recorder.finish` completes the run; throwing fails it (or cancels it when the signal fired).
 * A new kind of run is one class implementing this and one entry in `runsProviders`.
 */
export interface RunExecutor {
  readonly kind: RunKind;
  /** The phase the run shows once it starts; 'planning' when absent. */
  readonly firstPhase?: RunPhase;
  execute(run: RunEntity, recorder: RunRecorder, signal: AbortSignal): Promise<void>;
}
