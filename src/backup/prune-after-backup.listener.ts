import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { RunEntity } from './entities/run.entity.js';
import { RUN_EVENTS } from '../runs/run-events.js';
import { RestoreService } from './restore.service.js';

/** Retention follows every completed backup of a task that has a policy: a prune run is queued. */
@Injectable()
export class PruneAfterBackupListener {
  private readonly logger = new Logger('Retention');

  constructor(@Inject(RestoreService) private readonly restores: RestoreService) {}

  @OnEvent(RUN_EVENTS.completed)
  async onRunCompleted(run: RunEntity): Promise<void> {
    if (run.kind !== 'backup') return;
    // A run started meanwhile (409) or a task deleted since: nothing to prune now.
    await this.restores
      .pruneAfterBackup(run.taskId)
      .catch((e: unknown) => this.logger.debug(`no prune after run ${run.id}: ${String(e)}`));
  }
}
