import { jest } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { PruneAfterBackupHook } from '../../../src/version-requests/prune-after-backup.hook.js';
import type { RetentionService } from '../../../src/version-requests/retention.service.js';
import { ConflictAppError } from '../../../src/common/errors/app-errors.js';
import { RunFinishHooks } from '../../../src/runs/run-finish-hooks.js';
import { aRun } from '../../factories/run.factory.js';

describe('PruneAfterBackupHook', () => {
  function setup() {
    const restores = {
      pruneAfterBackup: jest
        .fn<RetentionService['pruneAfterBackup']>()
        .mockResolvedValue(undefined),
    };
    const hooks = new RunFinishHooks();
    const sut = new PruneAfterBackupHook(restores as unknown as RetentionService, hooks);
    sut.onModuleInit();
    return { hooks, restores };
  }

  it("should queue a prune in the transaction of a completed backup's final row", async () => {
    const { hooks, restores } = setup();
    const tx = { em: {} as EntityManager, afterCommit: jest.fn() };

    await hooks.run(aRun({ kind: 'backup', status: 'completed' }), tx);
    await hooks.run(aRun({ kind: 'backup', status: 'warning' }), undefined);

    expect(restores.pruneAfterBackup.mock.calls).toEqual([
      ['task-1', tx],
      ['task-1', undefined],
    ]);
  });

  it('should not prune after a restore, a prune, or a failed backup', async () => {
    const { hooks, restores } = setup();

    await hooks.run(aRun({ kind: 'restore', status: 'completed' }), undefined);
    await hooks.run(aRun({ kind: 'prune', status: 'completed' }), undefined);
    await hooks.run(aRun({ kind: 'backup', status: 'failed' }), undefined);

    expect(restores.pruneAfterBackup).not.toHaveBeenCalled();
  });

  it('should let a refused prune pass without failing the backup', async () => {
    const { hooks, restores } = setup();
    restores.pruneAfterBackup.mockRejectedValue(new ConflictAppError('busy'));

    await expect(hooks.run(aRun(), undefined)).resolves.toBeUndefined();
  });
});
