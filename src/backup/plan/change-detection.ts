import type { Entry } from '../../connectors/connector.js';
import { commonHashKinds, firstHashMismatch } from '../../connectors/hashing/hash-kinds.js';
import type { VersionFileEntity } from '../../versions/entities/version-file.entity.js';

/**
 * Whether the source file is the content already stored. A provider hash both sides know
 * decides (with the size); without one, size and modification time must both match. A
 * source that reports neither hash nor time is always copied: never guess "unchanged".
 */
export function isUnchanged(
  stored: Pick<VersionFileEntity, 'size' | 'sourceHashes' | 'modifiedAt'>,
  source: Entry,
): boolean {
  if (source.size === undefined || stored.size !== source.size) return false;
  if (commonHashKinds(stored.sourceHashes, source.hashes).length > 0) {
    return firstHashMismatch(stored.sourceHashes, source.hashes) === undefined;
  }
  if (!source.modifiedAt || !stored.modifiedAt) return false;
  return stored.modifiedAt.getTime() === source.modifiedAt.getTime();
}
