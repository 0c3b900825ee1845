import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RunEntity } from '../tasks/entities/run.entity.js';

/**
 * The transaction a run's final row is written in (a backup's, with its version's commit). A run
 * started in it is inserted there and queued only once it has committed.
 */
export interface RunTransaction {
  readonly em: EntityManager;
  afterCommit(fn: () => void): void;
}

/**
 * Called with a run's final row before its final event is announced: in the transaction that
 * writes the row when there is one (`tx`), else right after the row is written.
 */
export type RunFinishHook = (run: RunEntity, tx: RunTransaction | undefined) => Promise<void>;

/**
 * Rules that follow a run's end and must hold by the time anyone sees it ended. The module that
 * owns such a rule registers it here (retention: a prune after each completed backup), so a
 * client that reads `completed` finds what follows already queued, and the runs module imports
 * nothing above it.
 */
export class RunFinishHooks {
  private readonly logger = new Logger('RunFinishHooks');
  private readonly hooks: Array<{ name: string; hook: RunFinishHook }> = [];

  register(name: string, hook: RunFinishHook): void {
    this.hooks.push({ name, hook });
  }

  /**
   * Runs every hook; a hook's error is logged and never fails the run (nor rolls back the
   * version it committed). Hooks must not issue SQL that can fail inside `tx`.
   */
  async run(run: RunEntity, tx: RunTransaction | undefined): Promise<void> {
    for (const { name, hook } of this.hooks) {
      try {
        await hook(run, tx);
      } catch (e) {
        this.logger.debug({ msg: `${name} after run ${run.id}: ${String(e)}`, runId: run.id });
      }
    }
  }
}
