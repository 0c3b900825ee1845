import { hasRootPresence } from '../../connectors/capabilities.js';
import type { CallOptions, Connector } from '../../connectors/connector.js';
import {
  NotFoundError,
  RootMissingError,
  SourceOfflineError,
  TargetOfflineError,
} from '../../connectors/connector.errors.js';

export interface RunRoots {
  source: Connector;
  /** The task's source folder ('' for the account root). */
  sourcePath: string;
  target: Connector;
  /** The task's target folder ('' for the account root). */
  targetPath: string;
  /**
   * Earlier versions were written to the target folder: it must still be there. A first run may
   * create it; a later one finding it gone means the target vanished (a cloud folder deleted or
   * moved, a share remounted elsewhere), and writing a fresh copy would hide that.
   */
  targetHoldsVersions: boolean;
}

/**
 * Checks, before a run touches anything, that its source and target are there: the connectors'
 * own presence checks (a local drive and its volume marker), then the task's folders. Throws
 * SourceOfflineError or TargetOfflineError; the run then ends offline, writing nothing.
 */
export async function assertRunRootsPresent(
  roots: RunRoots,
  opts: CallOptions = {},
): Promise<void> {
  await assertSide('source', roots.source, roots.sourcePath, true, opts);
  await assertSide('target', roots.target, roots.targetPath, roots.targetHoldsVersions, opts);
}

/** The target and the task's folder on it are there (verify runs): else TargetOfflineError. */
export async function assertTargetPresent(
  target: Connector,
  targetPath: string,
  opts: CallOptions = {},
): Promise<void> {
  await assertSide('target', target, targetPath, true, opts);
}

async function assertSide(
  side: 'source' | 'target',
  connector: Connector,
  folder: string,
  mustExist: boolean,
  opts: CallOptions,
): Promise<void> {
  const offline = (detail: string, cause?: unknown) =>
    side === 'source'
      ? new SourceOfflineError(`the source is offline: ${detail}`, { cause })
      : new TargetOfflineError(`the target is offline: ${detail}`, { cause });
  if (hasRootPresence(connector)) {
    const check = await connector.checkRoot(opts);
    if (check.state !== 'present') throw offline(check.detail);
  }
  if (!mustExist) return;
  try {
    if (folder === '') {
      // Not every provider can stat its root; listing it (one page, at most) fails the same way.
      for await (const _ of connector.list('', opts)) break;
    } else {
      const entry = await connector.stat(folder, opts);
      if (entry.kind !== 'folder') throw offline(`'${folder}' is a file, not a folder`);
    }
  } catch (e) {
    if (e instanceof NotFoundError || e instanceof RootMissingError) {
      const what = folder === '' ? 'the root folder of the account' : `the folder '${folder}'`;
      throw offline(
        side === 'target'
          ? `${what}, which holds the earlier versions, is not there`
          : `${what} is not there`,
        e,
      );
    }
    throw e;
  }
}

/**
 * A root that vanished mid-run (RootMissingError from a write or a read) is the side's offline
 * error; anything else is returned unchanged.
 */
export function asOfflineError(e: unknown, side: 'source' | 'target'): unknown {
  if (!(e instanceof RootMissingError)) return e;
  return side === 'source'
    ? new SourceOfflineError(`the source is offline: ${e.message}`, { cause: e })
    : new TargetOfflineError(`the target is offline: ${e.message}`, { cause: e });
}
