import { EXPORT_FORMATS, FOLDER_MIME, isNative, type StoredFile } from './drive-store.js';

/** The one user the emulator knows (about.user, owners, lastModifyingUser). */
export const EMULATED_USER = {
  kind: 'drive#user',
  displayName: 'Emulated User',
  emailAddress: 'user@example.com',
  me: true,
  permissionId: '00000000000000000000',
} as const;

/** The File resource with every field the fake knows; `fields` filtering happens afterwards. */
export function fileResource(f: StoredFile, apiOrigin: string): Record<string, unknown> {
  const native = isNative(f.mimeType);
  const isFolder = f.mimeType === FOLDER_MIME;
  const out: Record<string, unknown> = {
    kind: 'drive#file',
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
    parents: [...f.parents],
    starred: f.starred ?? false,
    trashed: f.trashed,
    explicitlyTrashed: f.explicitlyTrashed,
    version: String(f.version),
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    ownedByMe: f.driveId === undefined,
    spaces: ['drive'],
    shared: false,
    viewedByMe: true,
    modifiedByMe: true,
    isAppAuthorized: true,
    hasThumbnail: false,
    thumbnailVersion: '0',
    writersCanShare: true,
    copyRequiresWriterPermission: false,
    viewersCanCopyContent: true,
    hasAugmentedPermissions: false,
    permissionIds: [EMULATED_USER.permissionId],
    lastModifyingUser: { ...EMULATED_USER },
    ...(f.driveId === undefined ? { owners: [{ ...EMULATED_USER }] } : {}),
    iconLink: `https://drive-thirdparty.googleusercontent.com/16/type/${f.mimeType}`,
    webViewLink: isFolder
      ? `https://drive.google.com/drive/folders/${f.id}`
      : `https://drive.google.com/file/d/${f.id}/view?usp=drivesdk`,
    capabilities: {
      canDownload: !isFolder,
      canEdit: true,
      canCopy: !isFolder,
      canDelete: true,
      canTrash: true,
      canListChildren: isFolder,
    },
  };
  if (f.description !== undefined) out.description = f.description;
  if (f.properties) out.properties = { ...f.properties };
  if (f.appProperties) out.appProperties = { ...f.appProperties };
  if (f.driveId) {
    out.driveId = f.driveId;
    out.teamDriveId = f.driveId;
  }
  if (f.blob) {
    out.webContentLink = `https://drive.google.com/uc?id=${f.id}&export=download`;
    out.size = String(f.blob.size);
    out.quotaBytesUsed = String(f.blob.size);
    out.md5Checksum = f.blob.md5;
    out.sha1Checksum = f.blob.sha1;
    out.sha256Checksum = f.blob.sha256;
    out.headRevisionId = f.headRevisionId;
    out.originalFilename = f.name;
    const dot = f.name.lastIndexOf('.');
    if (dot > 0) {
      out.fileExtension = f.name.slice(dot + 1);
      out.fullFileExtension = f.name.slice(dot + 1);
    }
  } else if (native && !isFolder) {
    // Native documents report a size that matches no exported byte stream (protocol brief 3).
    out.size = String(1024 + (f.nativeText?.length ?? 0) * 3);
    out.exportLinks = Object.fromEntries(
      (EXPORT_FORMATS[f.mimeType] ?? []).map((m) => [
        m,
        `${apiOrigin}/feeds/download/documents/export/Export?id=${f.id}&exportFormat=${encodeURIComponent(m)}`,
      ]),
    );
  }
  return out;
}

export const DEFAULT_FILE_FIELDS = ['kind', 'id', 'name', 'mimeType'];

export function pick(
  obj: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
