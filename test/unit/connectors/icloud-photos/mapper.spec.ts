import type { CkRecord } from '../../../../src/connectors/icloud-photos/api/types.js';
import {
  decodeFilename,
  monthKey,
  nameFolder,
  toPhotoAsset,
  type LibraryZone,
  type PhotoAsset,
} from '../../../../src/connectors/icloud-photos/icloud-photos.mapper.js';

const zone: LibraryZone = {
  db: 'private',
  zoneID: { zoneName: 'PrimarySync' },
  root: 'All Photos',
};
const res = (size: number) => ({
  size,
  downloadURL: 'https://cvws.icloud-content.com/B/x/${f}',
  fetchedAt: 0,
});

function asset(
  id: string,
  filename: string,
  addedDate: number,
  extra: Partial<PhotoAsset> = {},
): PhotoAsset {
  return {
    zone,
    assetId: id,
    masterId: 'M' + id,
    filename,
    assetDate: Date.UTC(2021, 2, 10),
    addedDate,
    tzOffsetSec: 0,
    modifiedAt: 0,
    isDeleted: false,
    isHidden: false,
    isEdited: false,
    resources: { original: res(10) },
    ...extra,
  };
}

describe('iCloud Photos mapper', () => {
  const opts = { includeLivePhotoVideos: true, includeEdited: true };

  it('should keep the plain name for the first import and suffix later same-named assets with their id', () => {
    const files = nameFolder(
      'All Photos/2021/03',
      [asset('BBBBBBBB-2', 'IMG_0001.HEIC', 2), asset('AAAAAAAA-1', 'IMG_0001.HEIC', 1)],
      opts,
    );
    expect(files.map((f) => f.name).sort()).toEqual(['IMG_0001 (BBBBBBBB).HEIC', 'IMG_0001.HEIC']);
    expect(files.find((f) => f.name === 'IMG_0001.HEIC')!.asset.assetId).toBe('AAAAAAAA-1');
  });

  it('should keep existing names stable when a newer same-named asset is imported', () => {
    const a = asset('AAAAAAAA-1', 'IMG_0001.HEIC', 1);
    const b = asset('BBBBBBBB-2', 'img_0001.heic', 2);
    const before = nameFolder('f', [a, b], opts).map((f) => f.path);
    const after = nameFolder('f', [a, b, asset('00000000-3', 'IMG_0001.HEIC', 3)], opts).map(
      (f) => f.path,
    );
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after).toContain('f/IMG_0001 (00000000).HEIC');
  });

  it('should suffix a Live Photo pair together when only its video collides', () => {
    const video = asset('VVVVVVVV-1', 'IMG_0001.MOV', 1);
    const live = asset('LLLLLLLL-2', 'IMG_0001.HEIC', 2, {
      resources: { original: res(10), live: { ...res(20), fileType: 'com.apple.quicktime-movie' } },
    });
    const names = nameFolder('f', [live, video], opts)
      .map((f) => f.name)
      .sort();
    expect(names).toEqual(['IMG_0001 (LLLLLLLL).HEIC', 'IMG_0001 (LLLLLLLL).MOV', 'IMG_0001.MOV']);
  });

  it('should name edits -edited and omit optional variants when not asked for', () => {
    const edited = asset('EEEEEEEE-1', 'IMG_0002.HEIC', 1, {
      isEdited: true,
      resources: {
        original: res(10),
        edited: { ...res(5), fileType: 'public.jpeg' },
        live: { ...res(3), fileType: 'com.apple.quicktime-movie' },
      },
    });
    expect(nameFolder('f', [edited], opts).map((f) => f.name)).toEqual([
      'IMG_0002.HEIC',
      'IMG_0002.MOV',
      'IMG_0002-edited.JPG',
    ]);
    expect(
      nameFolder('f', [edited], { includeLivePhotoVideos: false, includeEdited: false }).map(
        (f) => f.name,
      ),
    ).toEqual(['IMG_0002.HEIC']);
  });

  it('should decode filenameEnc as base64 or STRING and synthesize a name when it is missing', () => {
    expect(
      decodeFilename({
        recordName: 'x',
        fields: { filenameEnc: { type: 'ENCRYPTED_BYTES', value: 'SU1HXzc0MDkuSlBH' } },
      }),
    ).toBe('IMG_7409.JPG');
    expect(
      decodeFilename({
        recordName: 'x',
        fields: { filenameEnc: { type: 'STRING', value: 'a/b.png' } },
      }),
    ).toBe('a_b.png');
    expect(
      decodeFilename({
        recordName: 'AY6c+BsE/0j',
        fields: { itemType: { value: 'com.adobe.raw-image' } },
      }),
    ).toBe('AY6c_BsE_0j.DNG');
  });

  it('should read resources from the asset first, then the master, and skip records without an original', () => {
    const master: CkRecord = {
      recordName: 'M1',
      recordType: 'CPLMaster',
      fields: {
        resOriginalRes: { value: { size: 9, downloadURL: 'u1' } },
        filenameEnc: { type: 'STRING', value: 'a.jpg' },
      },
    };
    const a: CkRecord = {
      recordName: 'A1',
      recordType: 'CPLAsset',
      fields: {
        masterRef: { value: { recordName: 'M1' } },
        assetDate: { value: Date.UTC(2020, 11, 31, 23) },
        timeZoneOffset: { value: 3600 * 2 },
        adjustmentType: { value: 'com.apple.photo' },
        resJPEGFullRes: { value: { size: 4, downloadURL: 'u2' } },
      },
    };
    const p = toPhotoAsset(zone, a, master, 0)!;
    expect(p.resources.original?.size).toBe(9);
    expect(p.resources.edited?.size).toBe(4);
    expect(p.isEdited).toBe(true);
    expect(monthKey(p)).toBe('2021/01'); // capture month in the photo's own time zone
    expect(toPhotoAsset(zone, a, { recordName: 'M1', fields: {} }, 0)).toBeUndefined();
  });
});
