import type { AssetState } from './library.js';

/**
 * CloudKit Web Services query filters (developer.apple.com/library/archive/documentation/
 * DataManagement/Conceptual/CloudKitWebServicesReference/QueryingRecords.html): `filterBy` is an
 * array of `{ comparator, fieldName, fieldValue: { value, type? } }`. The Photos "record types"
 * queried here are server-side indexes whose filters are parameters (where to start, which way,
 * which album); each takes its own fields with its own comparators. Anything else is CloudKit's
 * 400 BAD_REQUEST with a reason naming it, never ignored or read as EQUALS.
 */

/** Every comparator the CloudKit Web Services reference documents. */
export const CK_COMPARATORS = new Set([
  'EQUALS',
  'NOT_EQUALS',
  'LESS_THAN',
  'LESS_THAN_OR_EQUALS',
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUALS',
  'NEAR',
  'CONTAINS_ALL_TOKENS',
  'IN',
  'NOT_IN',
  'CONTAINS_ANY_TOKENS',
  'LIST_CONTAINS',
  'NOT_LIST_CONTAINS',
  'NOT_LIST_CONTAINS_ANY',
  'BEGINS_WITH',
  'NOT_BEGINS_WITH',
  'LIST_MEMBER_BEGINS_WITH',
  'NOT_LIST_MEMBER_BEGINS_WITH',
  'LIST_CONTAINS_ALL',
  'NOT_LIST_CONTAINS_ALL',
]);

type ParamType = 'INT64' | 'STRING' | 'STRING_LIST';

interface IndexParam {
  type: ParamType;
  comparators: readonly string[];
  /** The values a STRING parameter takes, when it is an enumeration. */
  values?: readonly string[];
}

/** Smart albums (`smartAlbum` EQUALS) and what makes an asset part of one. */
export const SMART_ALBUMS: Record<string, (a: AssetState) => boolean> = {
  FAVORITE: (a) => isFavorite(a),
  VIDEO: (a) => a.kind === 'mov',
  LIVE: (a) => a.kind === 'heic-live',
  PANORAMA: () => false,
  TIMELAPSE: () => false,
  SLOMO: () => false,
  SCREENSHOT: () => false,
};

/** The names `HyperionIndexCountLookup` uses for the smart albums (`...:Favorite`). */
export const SMART_ALBUM_COUNT_NAMES: Record<string, string> = {
  Favorite: 'FAVORITE',
  Video: 'VIDEO',
  Live: 'LIVE',
  Panorama: 'PANORAMA',
  Timelapse: 'TIMELAPSE',
  Slomo: 'SLOMO',
  Screenshot: 'SCREENSHOT',
};

/** The asset's favourite flag (also written into the CPLAsset record's `isFavorite`). */
export function isFavorite(a: AssetState): boolean {
  return a.index % 11 === 0;
}

const START_RANK: IndexParam = { type: 'INT64', comparators: ['EQUALS'] };
const DIRECTION: IndexParam = {
  type: 'STRING',
  comparators: ['EQUALS'],
  values: ['ASCENDING', 'DESCENDING'],
};
const PARENT_ID: IndexParam = { type: 'STRING', comparators: ['EQUALS'] };

/** The filter parameters each index served here takes. */
export const INDEX_PARAMS: Record<string, Record<string, IndexParam>> = {
  CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted: {
    startRank: START_RANK,
    direction: DIRECTION,
  },
  CPLAssetAndMasterInSmartAlbumByAssetDate: {
    startRank: START_RANK,
    direction: DIRECTION,
    smartAlbum: { type: 'STRING', comparators: ['EQUALS'], values: Object.keys(SMART_ALBUMS) },
  },
  CPLAssetAndMasterHiddenByAssetDate: { startRank: START_RANK, direction: DIRECTION },
  CPLAssetAndMasterDeletedByExpungedDate: { startRank: START_RANK, direction: DIRECTION },
  CPLContainerRelationLiveByAssetDate: {
    startRank: START_RANK,
    direction: DIRECTION,
    parentId: PARENT_ID,
  },
  CPLContainerRelationLiveByPosition: {
    startRank: START_RANK,
    direction: DIRECTION,
    parentId: PARENT_ID,
  },
  CPLAlbumByPositionLive: { parentId: PARENT_ID },
  HyperionIndexCountLookup: {
    indexCountID: { type: 'STRING_LIST', comparators: ['IN', 'EQUALS'] },
  },
  CheckIndexingState: {},
};

/** A query's filters by field name: the value, already checked against its index's parameter. */
export type Filters = Map<string, unknown>;

/**
 * Checks `filterBy` against the index's parameters; returns the values by field name. Throws
 * `bad(reason)` (the caller's CloudKit 400 BAD_REQUEST) for what the index does not take.
 */
export function parseFilters(
  recordType: string,
  raw: unknown,
  bad: (reason: string) => Error,
): Filters {
  const params = INDEX_PARAMS[recordType];
  const out: Filters = new Map();
  if (raw === undefined || raw === null) return out;
  const list = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (list.some((x) => typeof x !== 'object' || x === null || Array.isArray(x)))
    throw bad('filterBy must be an array of filter dictionaries');
  for (const item of list as Array<Record<string, unknown>>) {
    const { fieldName, comparator, fieldValue } = item;
    if (typeof fieldName !== 'string' || fieldName === '')
      throw bad('filterBy: a filter has no fieldName');
    if (typeof comparator !== 'string')
      throw bad(`filterBy: the filter on '${fieldName}' has no comparator`);
    if (!CK_COMPARATORS.has(comparator))
      throw bad(`filterBy: unknown comparator '${comparator}' on '${fieldName}'`);
    if (typeof fieldValue !== 'object' || fieldValue === null || !('value' in fieldValue))
      throw bad(`filterBy: the filter on '${fieldName}' has no fieldValue.value`);
    if (!params) continue; // the caller refuses the unknown index itself
    const param = params[fieldName];
    if (!param)
      throw bad(
        `filterBy: field '${fieldName}' is not queryable on index '${recordType}'` +
          ` (it takes ${Object.keys(params).join(', ') || 'no filter'})`,
      );
    if (!param.comparators.includes(comparator))
      throw bad(
        `filterBy: comparator ${comparator} is not supported on '${fieldName}' of '${recordType}'` +
          ` (only ${param.comparators.join(', ')})`,
      );
    if (out.has(fieldName)) throw bad(`filterBy: '${fieldName}' is filtered twice`);
    const { value, type } = fieldValue as { value: unknown; type?: unknown };
    const listType = param.type === 'STRING_LIST';
    if (type !== undefined && type !== param.type && !(listType && type === 'STRING'))
      throw bad(`filterBy: '${fieldName}' is ${param.type}, not ${String(type)}`);
    const badValue = () => bad(`filterBy: '${fieldName}' has an invalid value`);
    if (param.type === 'INT64') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw badValue();
    } else if (listType) {
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || values.some((v) => typeof v !== 'string')) throw badValue();
      out.set(fieldName, values);
      continue;
    } else {
      if (typeof value !== 'string') throw badValue();
      if (param.values && !param.values.includes(value))
        throw bad(
          `filterBy: '${fieldName}' must be one of ${param.values.join(', ')}, not '${value}'`,
        );
    }
    out.set(fieldName, value);
  }
  return out;
}
