import { jest } from '@jest/globals';
import { PruneAfterBackupListener } from '../../../src/backup/prune-after-backup.listener.js';
import type { RestoreService } from '../../../src/backup/restore.service.js';
import { ConflictAppError } from '../../../src/common/errors/app-errors.js';
import { aRun } from '../../factories/run.factory.js';

describe('PruneAfterBackupListener', () => {
  function setup() {
    const restores = {
      pruneAfterBackup: jest.fn<RestoreService['pruneAfterBackup']>().mockResolvedValue(undefined),
    };
    const sut = new PruneAfterBackupListener(restores as unknown as RestoreService);
    return { sut, restores };
  }

  it('should queue a prune after a completed backup of the task', async () => {
    const { sut, restores } = setup();

    await sut.onRunCompleted(aRun({ kind: 'backup', status: 'completed' }));

    expect(restores.pruneAfterBackup).toHaveBeenCalledWith('task-1');
  });

  it('should not prune after a restore or a prune', async () => {
    const { sut, restores } = setup();

    await sut.onRunCompleted(aRun({ kind: 'restore', status: 'completed' }));
    await sut.onRunCompleted(aRun({ kind: 'prune', status: 'completed' }));

    expect(restores.pruneAfterBackup).not.toHaveBeenCalled();
  });

  it('should let a refused prune pass without throwing into the event bus', async () => {
    const { sut, restores } = setup();
    restores.pruneAfterBackup.mockRejectedValue(new ConflictAppError('busy'));

    await expect(sut.onRunCompleted(aRun())).resolves.toBeUndefined();
  });
});
