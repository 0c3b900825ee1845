import type { OptionSpec } from '../connector-descriptor.js';

export const LOCAL_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'root',
    label: 'Folder',
    help: 'Absolute path of a folder on this machine or on a mounted external drive, e.g. /mnt/backup.',
    type: 'string',
    target: 'local-folder',
    required: true,
  },
  {
    key: 'fsync',
    label: 'Flush to disk',
    help: 'Flush every written file to the drive before it counts as stored (safer on USB drives).',
    type: 'boolean',
    default: true,
    advanced: true,
  },
];

export interface LocalOptions {
  root: string;
  fsync: boolean;
}
