import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpException, HttpStatus } from '@nestjs/common';
import type { Sharp, SharpOptions } from 'sharp';

/**
 * Small JPEG thumbnails of stored images for the version browser. sharp (libvips, prebuilt
 * binaries from the npm registry) decodes with shrink-on-load and streams its input, so a
 * 20 MB photo never sits in memory whole; its cache is off and one thumbnail is made at a time
 * per process, so memory stays low however many the browser asks for.
 */

/** The extensions a thumbnail is tried for; anything else is refused with 415 before reading. */
const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'tif', 'tiff']);
/** Stored files larger than this are not read for a thumbnail (413). */
export const MAX_THUMBNAIL_INPUT = 50 * 1024 * 1024;
/**
 * Decoded images above this many pixels are refused (a decompression bomb stops here). JPEG is
 * shrunk while it is decoded, so a 48 MP photo costs about 80 MiB at peak; other formats decode
 * whole (16 MP of RGBA is 64 MiB), so their cap is lower.
 */
const MAX_PIXELS_JPEG = 50_000_000;
const MAX_PIXELS_OTHER = 16_000_000;

let loaded: Promise<(o: SharpOptions) => Sharp> | undefined;

/**
 * sharp is imported with the first thumbnail, not at start-up: libvips maps ~7 MiB of resident
 * memory and its JavaScript ~2 MiB of heap, in an engine that may never be asked for one.
 */
function loadSharp(): Promise<(o: SharpOptions) => Sharp> {
  if (!loaded) {
    loaded = import('sharp').then(({ default: sharp }) => {
      sharp.cache(false);
      sharp.concurrency(1);
      return (o: SharpOptions) => sharp(o);
    });
    loaded.catch(() => (loaded = undefined));
  }
  return loaded;
}

let busy: Promise<unknown> = Promise.resolve();

export function isImagePath(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') && IMAGE_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

export function notAnImage(path: string): HttpException {
  return new HttpException(
    { message: `'${path}' is not an image: no thumbnail` },
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  );
}

export function tooLargeForThumbnail(path: string, size: number): HttpException {
  return new HttpException(
    {
      message: `'${path}' is ${size} bytes, more than the ${MAX_THUMBNAIL_INPUT} a thumbnail reads`,
    },
    HttpStatus.PAYLOAD_TOO_LARGE,
  );
}

/**
 * A JPEG no wider or taller than `size` made from the stream `open` gives (fed to the decoder as
 * it arrives), one at a time: the stream is opened only when its turn comes. A stream that is not
 * a readable image answers 415 naming `path`.
 */
export async function makeThumbnail(
  open: () => Promise<Readable>,
  size: number,
  path: string,
): Promise<Buffer> {
  const run = busy.then(async () => {
    const sharp = await loadSharp();
    const input = await open();
    const jpeg = /\.jpe?g$/i.test(path);
    const resizer = sharp({
      limitInputPixels: jpeg ? MAX_PIXELS_JPEG : MAX_PIXELS_OTHER,
      sequentialRead: true,
      failOn: 'error',
    })
      .rotate()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 72, mozjpeg: true });
    const out = resizer.toBuffer();
    // A read that fails is the store's error; anything else the decoder refused is the file's.
    let readError: unknown;
    input.once('error', (e) => (readError = e));
    try {
      await Promise.all([pipeline(input, resizer), out]);
      return await out;
    } catch {
      input.destroy();
      out.catch(() => undefined);
      if (readError !== undefined) throw readError;
      throw new HttpException(
        { message: `'${path}' could not be read as an image` },
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      );
    }
  });
  busy = run.catch(() => undefined);
  return run;
}
