import { DriveApiError } from './drive-errors.js';

/**
 * The partial-response `fields` parameter (developers.google.com/drive/api/guides/fields-parameter):
 * a comma-separated selection of `a`, `a/b` paths, `a(b,c)` sub-selections and `*`, checked
 * against the resource the method returns. A name the resource does not have answers Drive's 400
 * ("Invalid field selection x", reason invalidParameter, location fields), as the service does,
 * instead of being dropped.
 */

/**
 * A resource's fields: a nested resource; 'leaf' (a value); 'map' (any key below it, each a value:
 * `exportLinks`, `properties`, `capabilities`); 'any' (a structure not modelled here: anything).
 */
export type Schema = { readonly [field: string]: Schema | Kind };
type Kind = 'leaf' | 'map' | 'any';

const leaves = (...names: string[]): Record<string, 'leaf'> =>
  Object.fromEntries(names.map((n) => [n, 'leaf' as const]));

const USER: Schema = leaves(
  'kind',
  'displayName',
  'photoLink',
  'me',
  'permissionId',
  'emailAddress',
);

/** Drive v3 File, every documented field (the emulator reports a subset; see the README). */
export const FILE_SCHEMA: Schema = {
  ...leaves(
    'kind',
    'driveId',
    'fileExtension',
    'copyRequiresWriterPermission',
    'md5Checksum',
    'writersCanShare',
    'viewedByMe',
    'mimeType',
    'parents',
    'thumbnailLink',
    'iconLink',
    'shared',
    'headRevisionId',
    'webViewLink',
    'webContentLink',
    'size',
    'viewersCanCopyContent',
    'hasThumbnail',
    'spaces',
    'folderColorRgb',
    'id',
    'name',
    'description',
    'starred',
    'trashed',
    'explicitlyTrashed',
    'createdTime',
    'modifiedTime',
    'modifiedByMeTime',
    'viewedByMeTime',
    'sharedWithMeTime',
    'quotaBytesUsed',
    'version',
    'originalFilename',
    'ownedByMe',
    'fullFileExtension',
    'isAppAuthorized',
    'teamDriveId',
    'hasAugmentedPermissions',
    'thumbnailVersion',
    'trashedTime',
    'modifiedByMe',
    'permissionIds',
    'resourceKey',
    'sha1Checksum',
    'sha256Checksum',
    'inheritedPermissionsDisabled',
  ),
  exportLinks: 'map',
  properties: 'map',
  appProperties: 'map',
  capabilities: 'map',
  contentHints: 'any',
  imageMediaMetadata: 'any',
  videoMediaMetadata: 'any',
  contentRestrictions: 'any',
  linkShareMetadata: 'any',
  labelInfo: 'any',
  downloadRestrictions: 'any',
  permissions: 'any',
  shortcutDetails: leaves('targetId', 'targetMimeType', 'targetResourceKey'),
  lastModifyingUser: USER,
  owners: USER,
  sharingUser: USER,
  trashingUser: USER,
};

export const FILE_LIST_SCHEMA: Schema = {
  ...leaves('kind', 'nextPageToken', 'incompleteSearch'),
  files: FILE_SCHEMA,
};

export const DRIVE_SCHEMA: Schema = {
  ...leaves('kind', 'id', 'name', 'colorRgb', 'backgroundImageLink', 'themeId', 'createdTime'),
  ...leaves('hidden', 'orgUnitId'),
  capabilities: 'map',
  restrictions: 'any',
  backgroundImageFile: 'any',
};

export const DRIVE_LIST_SCHEMA: Schema = {
  ...leaves('kind', 'nextPageToken'),
  drives: DRIVE_SCHEMA,
};

export const CHANGE_SCHEMA: Schema = {
  ...leaves('kind', 'removed', 'fileId', 'time', 'driveId', 'changeType', 'teamDriveId', 'type'),
  file: FILE_SCHEMA,
  drive: DRIVE_SCHEMA,
  teamDrive: DRIVE_SCHEMA,
};

export const CHANGE_LIST_SCHEMA: Schema = {
  ...leaves('kind', 'nextPageToken', 'newStartPageToken'),
  changes: CHANGE_SCHEMA,
};

export const START_PAGE_TOKEN_SCHEMA: Schema = leaves('kind', 'startPageToken');

export const ABOUT_SCHEMA: Schema = {
  ...leaves('kind', 'canCreateDrives', 'appInstalled', 'maxUploadSize', 'folderColorPalette'),
  ...leaves('canCreateTeamDrives'),
  user: USER,
  storageQuota: leaves('limit', 'usageInDrive', 'usageInDriveTrash', 'usage'),
  driveThemes: 'any',
  teamDriveThemes: 'any',
  importFormats: 'map',
  exportFormats: 'map',
  maxImportSizes: 'map',
};

/** A parsed selection: field -> sub-selection, `true` for the whole value. */
export type FieldTree = Map<string, FieldTree | true>;

export function invalidFieldSelection(what: string): DriveApiError {
  return new DriveApiError(
    400,
    'invalidParameter',
    `Invalid field selection ${what}`,
    'global',
    {},
    { location: 'fields', locationType: 'parameter' },
  );
}

/**
 * Parses and checks a selection against a schema; undefined when absent or empty (the method's
 * default fields apply). `*` anywhere selects everything at that level.
 */
export function parseFields(fields: string | null, schema: Schema): FieldTree | undefined {
  if (fields === null || fields.trim() === '') return undefined;
  const s = fields.replace(/\s+/g, '');
  let i = 0;
  const parseList = (at: Schema | Kind): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      let j = i;
      while (j < s.length && /[A-Za-z0-9_*/.-]/.test(s[j]!)) j++;
      const name = s.slice(i, j);
      if (name === '' || name.startsWith('/') || name.endsWith('/') || name.includes('//'))
        throw invalidFieldSelection(name === '' ? s.slice(i) || s : name);
      i = j;
      // Walk the path, checking each step against the schema.
      const parts = name.split('/');
      let node: Schema | Kind = at;
      for (const part of parts) {
        if (node === 'leaf') throw invalidFieldSelection(part);
        if (node === 'any' || part === '*') {
          node = 'any';
          continue;
        }
        if (node === 'map') {
          node = 'leaf';
          continue;
        }
        const next: Schema | Kind | undefined = Object.prototype.hasOwnProperty.call(node, part)
          ? node[part]
          : undefined;
        if (next === undefined) throw invalidFieldSelection(part);
        node = next;
      }
      let sub: FieldTree | true = true;
      if (s[i] === '(') {
        if (node === 'leaf') throw invalidFieldSelection(name);
        i++;
        sub = parseList(node);
        if (s[i] !== ')') throw invalidFieldSelection(s);
        i++;
      }
      let target = tree;
      for (const [k, part] of parts.entries()) {
        if (k === parts.length - 1) {
          const existing = target.get(part);
          // `a,a(b)`: the whole value wins over a part of it.
          if (existing !== true)
            target.set(part, existing instanceof Map && sub !== true ? merge(existing, sub) : sub);
        } else {
          const existing = target.get(part);
          if (existing === true) break;
          const child: FieldTree = existing instanceof Map ? existing : new Map();
          target.set(part, child);
          target = child;
        }
      }
      if (s[i] === ',') {
        i++;
        continue;
      }
      return tree;
    }
  };
  const tree = parseList(schema);
  if (i !== s.length) throw invalidFieldSelection(s);
  return tree;
}

function merge(a: FieldTree, b: FieldTree): FieldTree {
  for (const [k, v] of b) {
    const cur = a.get(k);
    if (cur === true) continue;
    a.set(k, v === true ? true : cur instanceof Map ? merge(cur, v) : v);
  }
  return a;
}

/** Keeps only the selected fields, recursing into objects and arrays of objects. */
export function applyFields(value: unknown, tree: FieldTree | true): unknown {
  if (tree === true || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => applyFields(v, tree));
  if (tree.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [k, sub] of tree) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = applyFields(v, sub);
  }
  return out;
}
