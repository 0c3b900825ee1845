import { Logger } from '@nestjs/common';
import type { RunKind } from '../tasks/entities/run.entity.js';
import type { RunsRepository } from '../tasks/runs.repository.js';
import type { Clock } from '../common/clock.js';
import type { VersionsService } from '../versions/versions.service.js';
import type { RunEventsSink } from './run-events.js';
import type { RunExecutor } from './run-executor.js';
import { FilesFailedError } from './run-outcome.js';
import { RepositoryRunRecorder, type RunPauseGate, type RunRecorderDeps } from './run-recorder.js';

export interface RunDispatcherDeps {
  runs: Pick<RunsRepository, 'findById' | 'update' | 'addEvents'>;
  versions: Pick<VersionsService, 'markRunVersionsPartial'>;
  events: RunEventsSink;
  clock: Clock;
  pauses?: RunPauseGate;
  finishHooks?: RunRecorderDeps['finishHooks'];
}

/**
 * What the run queue calls for each run id: loads the run, hands it to the executor of its kind
 * with a fresh recorder, and records how it ended. Every run kind gets the same lifecycle:
 * queued -> running (event `started`) -> completed, failed or cancelled (one final event, after
 * the row is written).
 */
export class RunDispatcher {
  private readonly logger = new Logger('RunDispatcher');
  private readonly executors = new Map<RunKind, RunExecutor>();

  constructor(
    private readonly deps: RunDispatcherDeps,
    executors: RunExecutor[],
  ) {
    for (const e of executors) {
      if (this.executors.has(e.kind)) throw new Error(`two executors for runs of kind '${e.kind}'`);
      this.executors.set(e.kind, e);
    }
  }

  kinds(): RunKind[] {
    return [...this.executors.keys()];
  }

  async execute(runId: string, signal: AbortSignal): Promise<void> {
    const run = await this.deps.runs.findById(runId);
    if (!run) throw new Error(`run ${runId} vanished before it started`);
    // A job delivered again after its run finished (cluster redelivery): nothing left to do.
    if (run.status !== 'queued' && run.status !== 'running') return;
    if (run.status === 'running') {
      // An earlier attempt died mid-run (its worker was killed; BullMQ handed the job on). What it
      // stored and recorded stays as a partial version, which this attempt reuses.
      const n = await this.deps.versions.markRunVersionsPartial(run.id);
      this.logger.warn({
        msg: `run ${run.id} resumed after an interrupted attempt (${n} version(s) partial)`,
        runId: run.id,
      });
    }
    await this.deps.pauses?.adopt?.(run.id);
    const recorder = new RepositoryRunRecorder(run, this.deps);
    const executor = this.executors.get(run.kind);
    try {
      await recorder.start(executor?.firstPhase ?? 'planning');
      if (!executor) throw new Error(`no executor for runs of kind '${run.kind}'`);
      await executor.execute(run, recorder, signal);
      if (!recorder.isFinished) await recorder.finish('completed');
    } catch (e) {
      if (recorder.isFinished) {
        // The run's outcome is written; what failed after it (a note to the accounts) does not change it.
        this.logger.warn({
          msg: `run ${run.id} (${run.kind}): after it finished: ${String(e)}`,
          runId: run.id,
        });
      } else {
        const { cancelled, message } = await recorder.fail(e, signal);
        if (!cancelled && !(e instanceof FilesFailedError))
          this.logger.warn({
            msg: `${run.kind} run ${run.id} of task ${run.taskId} failed: ${message}`,
            runId: run.id,
          });
      }
    } finally {
      await recorder.flushEvents().catch(() => undefined);
      recorder.announce();
    }
  }
}
