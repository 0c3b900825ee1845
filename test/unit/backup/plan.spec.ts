import { isUnchanged } from '../../../src/backup/plan/change-detection.js';
import { ExtensionFilter, parseExtensions } from '../../../src/backup/plan/extension-filter.js';
import type { Entry } from '../../../src/connectors/connector.js';
import type { VersionFileEntity } from '../../../src/versions/entities/version-file.entity.js';

describe('parseExtensions', () => {
  it('should accept a comma-separated string or a list, with dots, stars and any case', () => {
    expect(parseExtensions('jpg, .HEIC  mov;*.png').extensions).toEqual([
      'jpg',
      'heic',
      'mov',
      'png',
    ]);
    expect(parseExtensions(['JPG', 'jpg', '']).extensions).toEqual(['jpg']);
  });

  it('should report what is not an extension', () => {
    expect(parseExtensions('jpg, a/b, x y').problems).toEqual([
      "'a/b' is not a file extension (letters and digits, like jpg or heic)",
    ]);
  });
});

describe('ExtensionFilter', () => {
  it('should include only listed extensions, case-insensitively', () => {
    const sut = new ExtensionFilter('include', ['jpg', 'heic']);
    expect(['a.JPG', 'b/c.heic', 'd.mov', 'noext', '.jpg'].map((p) => sut.accepts(p))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('should exclude listed extensions', () => {
    const sut = new ExtensionFilter('exclude', ['mov']);
    expect(['a.MOV', 'b.jpg', 'noext'].map((p) => sut.accepts(p))).toEqual([false, true, true]);
  });

  it('should accept everything in mode all', () => {
    expect(new ExtensionFilter('all', ['x']).accepts('a.x')).toBe(true);
  });
});

describe('isUnchanged', () => {
  const at = new Date(1_700_000_000_000);
  const stored = (over: Partial<VersionFileEntity> = {}) =>
    ({ size: 10, modifiedAt: at, sourceHashes: {}, ...over }) as VersionFileEntity;
  const entry = (over: Partial<Entry> = {}): Entry => ({
    path: 'a',
    name: 'a',
    kind: 'file',
    size: 10,
    modifiedAt: at,
    hashes: {},
    ...over,
  });

  it('should decide on a hash both sides know', () => {
    expect(
      isUnchanged(
        stored({ sourceHashes: { md5: 'a' } }),
        entry({ hashes: { md5: 'a' }, modifiedAt: new Date() }),
      ),
    ).toBe(true);
    expect(
      isUnchanged(stored({ sourceHashes: { md5: 'a' } }), entry({ hashes: { md5: 'b' } })),
    ).toBe(false);
  });

  it('should fall back to size and modification time', () => {
    expect(isUnchanged(stored(), entry())).toBe(true);
    expect(isUnchanged(stored(), entry({ modifiedAt: new Date(at.getTime() + 1) }))).toBe(false);
    expect(isUnchanged(stored(), entry({ size: 11 }))).toBe(false);
  });

  it('should treat a source without hash or time as changed', () => {
    expect(isUnchanged(stored(), entry({ modifiedAt: undefined }))).toBe(false);
  });
});
