import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { RunEntity } from '../tasks/entities/run.entity.js';
import { RunFinishHooks, type RunTransaction } from '../runs/run-finish-hooks.js';
import { RetentionService } from './retention.service.js';

/**
 * Retention follows every completed backup of a task that has a policy: a prune run is queued.
 * It is inserted with the backup's final row (a finish hook of the runs module, in the commit
 * transaction of the version), so whoever sees the backup completed finds the prune queued.
 */
@Injectable()
export class PruneAfterBackupHook implements OnModuleInit {
  constructor(
    @Inject(RetentionService) private readonly retention: RetentionService,
    @Inject(RunFinishHooks) private readonly hooks: RunFinishHooks,
  ) {}

  onModuleInit(): void {
    this.hooks.register('retention', (run, tx) => this.onRunFinished(run, tx));
  }

  async onRunFinished(run: RunEntity, tx?: RunTransaction): Promise<void> {
    if (run.kind !== 'backup' || (run.status !== 'completed' && run.status !== 'warning')) return;
    // A run started meanwhile (409) or a task deleted since: nothing to prune now (the hooks
    // log it and the backup stays completed).
    await this.retention.pruneAfterBackup(run.taskId, tx);
  }
}
