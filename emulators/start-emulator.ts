import { startDropboxEmulator, type DropboxEmulatorOptions } from './dropbox/dropbox-emulator.js';
import type { EmulatorControlApi, EmulatorKind } from './emulator-control.js';
import {
  startGoogleDriveEmulator,
  type GoogleDriveEmulatorOptions,
} from './google-drive/google-drive.emulator.js';
import {
  startICloudPhotosEmulator,
  type ICloudPhotosEmulatorOptions,
} from './icloud-photos/icloud-photos.emulator.js';
import {
  startOneDriveEmulator,
  type OneDriveEmulatorOptions,
} from './onedrive/onedrive-emulator.js';

export interface EmulatorOptionsByKind {
  'google-drive': GoogleDriveEmulatorOptions;
  onedrive: OneDriveEmulatorOptions;
  dropbox: DropboxEmulatorOptions;
  'icloud-photos': ICloudPhotosEmulatorOptions;
}

/** Starts one emulator by kind and hands back its shared control API. */
export async function startEmulator<K extends EmulatorKind>(
  kind: K,
  opts: EmulatorOptionsByKind[K] = {},
): Promise<EmulatorControlApi> {
  switch (kind) {
    case 'google-drive':
      return (await startGoogleDriveEmulator(opts as GoogleDriveEmulatorOptions)).api;
    case 'onedrive':
      return (await startOneDriveEmulator(opts as OneDriveEmulatorOptions)).api;
    case 'dropbox':
      return (await startDropboxEmulator(opts as DropboxEmulatorOptions)).api;
    case 'icloud-photos':
      return (await startICloudPhotosEmulator(opts as ICloudPhotosEmulatorOptions)).api;
  }
  throw new Error(`unknown emulator kind '${String(kind)}'`);
}
