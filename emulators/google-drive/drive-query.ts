import { driveErrors } from './drive-errors.js';

export type OrderKey = { key: 'createdTime' | 'modifiedTime' | 'name' | 'folder'; desc: boolean };

export function parseOrderBy(orderBy: string | null): OrderKey[] {
  if (orderBy === null || orderBy.trim() === '') return [];
  return orderBy.split(',').map((part) => {
    const [key, dir, extra] = part.trim().split(/\s+/);
    const valid = ['createdTime', 'modifiedTime', 'name', 'folder'];
    if (
      !key ||
      !valid.includes(key) ||
      extra !== undefined ||
      (dir !== undefined && dir !== 'desc')
    ) {
      throw driveErrors.invalid('orderBy', 'Invalid Value');
    }
    return { key: key as OrderKey['key'], desc: dir === 'desc' };
  });
}
