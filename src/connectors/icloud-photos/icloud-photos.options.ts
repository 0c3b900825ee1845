import type { OptionSpec } from '../connector-descriptor.js';

export const DEFAULT_AUTH_BASE_URL = 'https://idmsa.apple.com/appleauth/auth';
export const DEFAULT_SETUP_BASE_URL = 'https://setup.icloud.com/setup/ws/1';
export const DEFAULT_WEB_ORIGIN = 'https://www.icloud.com';

export const ICLOUD_PHOTOS_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'appleId',
    label: 'Apple ID',
    help: 'The e-mail address of the Apple Account whose photo library is backed up.',
    type: 'string',
    required: true,
  },
  {
    key: 'password',
    label: 'Apple ID password',
    help:
      'Stored encrypted so a run can sign in again (with the stored trust token, no code) when the ' +
      'web session ends. Leave empty to be asked to sign in again instead.',
    type: 'string',
    secret: true,
  },
  {
    key: 'includeLivePhotoVideos',
    label: 'Live Photo videos',
    help: 'Also back up the motion part of Live Photos, as IMG_0001.MOV beside IMG_0001.HEIC.',
    type: 'boolean',
    default: true,
  },
  {
    key: 'includeEdited',
    label: 'Edited versions',
    help: 'Also back up the edited rendition of edited photos and videos, as IMG_0001-edited.JPG.',
    type: 'boolean',
    default: false,
  },
  {
    key: 'experimentalUpload',
    label: 'Experimental upload',
    help:
      'Lets restores upload photos back into All Photos through the photosupload flow Apple ' +
      'uses on icloud.com (unofficial, new in 2026, may break without notice). Uploaded photos ' +
      'are filed by capture date, so a restored photo may land in another month folder or under a ' +
      'suffixed name. Off: iCloud Photos is read-only and restores go to another location.',
    type: 'boolean',
    default: false,
    advanced: true,
  },
  {
    key: 'authBaseUrl',
    label: 'Apple ID sign-in URL',
    help: 'idmsa base URL; https://idmsa.apple.com.cn/appleauth/auth for mainland China accounts.',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_AUTH_BASE_URL,
    advanced: true,
  },
  {
    key: 'setupBaseUrl',
    label: 'iCloud setup URL',
    help: 'setup base URL; https://setup.icloud.com.cn/setup/ws/1 for mainland China accounts.',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_SETUP_BASE_URL,
    advanced: true,
  },
  {
    key: 'webOrigin',
    label: 'iCloud web origin',
    help: 'Origin/Referer the iCloud web app sends; https://www.icloud.com.cn for China.',
    type: 'string',
    target: 'admin-endpoint',
    default: DEFAULT_WEB_ORIGIN,
    advanced: true,
  },
  {
    key: 'listConcurrency',
    label: 'Parallel listing queries',
    help: 'CloudKit queries in flight at once during a full listing (Apple throttles bursts).',
    type: 'number',
    default: 4,
    advanced: true,
  },
];

export interface ICloudEndpoints {
  authBaseUrl: string;
  setupBaseUrl: string;
  webOrigin: string;
}

export interface ICloudPhotosOptions extends ICloudEndpoints {
  appleId: string;
  password?: string;
  includeLivePhotoVideos: boolean;
  includeEdited: boolean;
  experimentalUpload: boolean;
  listConcurrency: number;
}
