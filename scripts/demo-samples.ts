/**
 * Sample content for the demo: small but valid baseline JPEG pictures (no EXIF, no library needed)
 * and a few plain documents, all deterministic from a seed so every demo looks the same.
 *
 * The pictures are "pixel-art postcards": sky, sun, hills and ground drawn in 8x8 blocks of one
 * colour each. A flat block has only a DC coefficient, so the encoder below is the whole of baseline
 * JPEG minus the DCT: a DC table (the standard luminance one), an AC table holding only
 * end-of-block, and one 4:4:4 YCbCr scan. Any image viewer opens them.
 */

/** xorshift32: small, deterministic, good enough for pictures. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

type Rgb = readonly [number, number, number];

class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }

  /** Pads the last byte with 1 bits, as the standard asks. */
  finish(): Buffer {
    if (this.n > 0) this.write(0xff, 8 - this.n);
    return Buffer.from(this.bytes);
  }

  private flushByte(): void {
    this.bytes.push(this.acc);
    // 0xFF in entropy-coded data is followed by a stuffed zero byte.
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.n = 0;
  }
}

/** Standard DC luminance table (ITU T.81 Annex K.3): code lengths 1..16, then the symbols. */
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** AC table with a single symbol, end-of-block (0x00), coded as the 1-bit code '0'. */
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0];

/** Canonical Huffman codes from the code-length counts (T.81 Annex C). */
function huffmanCodes(bits: number[], values: number[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) out.set(values[k++]!, [code++, len]);
    code <<= 1;
  }
  return out;
}

const DC_CODES = huffmanCodes(DC_BITS, DC_VALUES);
const EOB = huffmanCodes(AC_BITS, AC_VALUES).get(0)!;

function segment(marker: number, payload: number[]): Buffer {
  const len = payload.length + 2;
  return Buffer.from([0xff, marker, len >> 8, len & 0xff, ...payload]);
}

/**
 * Encodes a picture given as one colour per 8x8 block (`blocks[row][col]`), so the image is
 * `cols * 8` by `rows * 8` pixels.
 */
export function encodeBlockJpeg(blocks: Rgb[][]): Buffer {
  const rows = blocks.length;
  const cols = blocks[0]!.length;
  const width = cols * 8;
  const height = rows * 8;
  // Quantiser 8 for the DC term: a flat block's DC is 8 * (level - 128), so it codes level - 128.
  const quant = [8, ...new Array<number>(63).fill(1)];
  const soi = Buffer.from([0xff, 0xd8]);
  const app0 = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = segment(0xdb, [0, ...quant]);
  const sof0 = segment(0xc0, [
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    ...[1, 2, 3].flatMap((id) => [id, 0x11, 0]),
  ]);
  const dht = segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES, 0x10, ...AC_BITS, ...AC_VALUES]);
  const sos = segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);

  const bits = new BitWriter();
  const previous = [0, 0, 0];
  for (const row of blocks) {
    for (const [r, g, b] of row) {
      // JFIF's RGB -> YCbCr.
      const ycc = [
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
      ];
      for (let c = 0; c < 3; c++) {
        const dc = Math.max(-128, Math.min(127, Math.round(ycc[c]!) - 128));
        const diff = dc - previous[c]!;
        previous[c] = dc;
        const magnitude = Math.abs(diff);
        const category = magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
        const [code, len] = DC_CODES.get(category)!;
        bits.write(code, len);
        if (category > 0) bits.write(diff > 0 ? diff : diff + (1 << category) - 1, category);
        bits.write(EOB[0], EOB[1]);
      }
    }
  }
  return Buffer.concat([soi, app0, dqt, sof0, dht, sos, bits.finish(), Buffer.from([0xff, 0xd9])]);
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];

/** Sky and ground palettes by month (0-11): blue summers, orange autumns, grey winters. */
function palette(month: number): { skyTop: Rgb; skyLow: Rgb; hill: Rgb; ground: Rgb } {
  if (month >= 5 && month <= 7)
    return {
      skyTop: [40, 110, 220],
      skyLow: [150, 200, 250],
      hill: [60, 140, 70],
      ground: [90, 170, 80],
    };
  if (month >= 8 && month <= 10)
    return {
      skyTop: [90, 80, 160],
      skyLow: [250, 170, 110],
      hill: [150, 90, 40],
      ground: [190, 130, 60],
    };
  if (month >= 2 && month <= 4)
    return {
      skyTop: [80, 150, 230],
      skyLow: [200, 230, 250],
      hill: [100, 170, 90],
      ground: [140, 200, 110],
    };
  return {
    skyTop: [110, 120, 140],
    skyLow: [200, 205, 215],
    hill: [170, 180, 190],
    ground: [235, 240, 245],
  };
}

/** A postcard: 8x8-pixel blocks, `cols` by `rows`, its colours from the month and the seed. */
export function postcardJpeg(seed: number, month: number, cols = 40, rows = 30): Buffer {
  const rand = rng(seed);
  const p = palette(month);
  const horizon = Math.floor(rows * (0.55 + rand() * 0.15));
  const sunX = 4 + rand() * (cols - 8);
  const sunY = 3 + rand() * (horizon / 2);
  const sunR = 2 + rand() * 2.5;
  const phase = rand() * Math.PI * 2;
  const freq = 0.15 + rand() * 0.25;
  const hillHeight = 2 + rand() * (rows / 5);
  const tint = (rand() - 0.5) * 40;
  const blocks: Rgb[][] = [];
  for (let y = 0; y < rows; y++) {
    const row: Rgb[] = [];
    for (let x = 0; x < cols; x++) {
      const hillTop = horizon - hillHeight * (0.5 + 0.5 * Math.sin(x * freq + phase));
      let c: Rgb;
      if (Math.hypot(x - sunX, y - sunY) < sunR) c = [255, 225, 90];
      else if (y < hillTop) c = mix(p.skyTop, p.skyLow, y / Math.max(1, hillTop));
      else if (y < horizon) c = p.hill;
      else c = mix(p.ground, [60, 60, 60], ((y - horizon) / (rows - horizon)) * 0.5);
      row.push([c[0] + tint, c[1], c[2] - tint].map((v) => Math.max(0, Math.min(255, v))) as never);
    }
    blocks.push(row);
  }
  return encodeBlockJpeg(blocks);
}

const MB = 1_000_000;

/** `n` pseudo-random bytes from the seed (incompressible, like camera data); xorshift32 inline. */
function noise(n: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, n);
}

/**
 * A photo that weighs what a camera's does (a few MB), so a newcomer sees speed and time left:
 * the postcard plus comment segments of camera-like data (an embedded preview, maker notes),
 * still a valid JPEG that any viewer opens.
 */
export function heavyJpeg(jpeg: Buffer, bytes: number, seed: number): Buffer {
  const segments: Buffer[] = [];
  let left = bytes - jpeg.length;
  let n = 0;
  while (left > 4) {
    const size = Math.min(65_533, left - 4);
    const head = Buffer.from([0xff, 0xfe, (size + 2) >> 8, (size + 2) & 0xff]);
    segments.push(head, noise(size, seed * 7919 + n++));
    left -= size + 4;
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** A video-sized file: an MP4 `ftyp` box and one `mdat` box of camera-like data. */
export function sampleVideo(bytes: number, seed: number): Buffer {
  const ftyp = Buffer.concat([
    Buffer.from([0, 0, 0, 24]),
    Buffer.from('ftypisom', 'latin1'),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from('isommp41', 'latin1'),
  ]);
  const payload = Math.max(0, bytes - ftyp.length - 8);
  const mdat = Buffer.alloc(8);
  mdat.writeUInt32BE(payload + 8, 0);
  mdat.write('mdat', 4, 'latin1');
  return Buffer.concat([ftyp, mdat, noise(payload, seed)]);
}

/** A few lines of plain text that read like a document, deterministic from the seed. */
export function sampleText(title: string, seed: number, paragraphs = 4): string {
  const rand = rng(seed);
  const words = [
    'backup',
    'photos',
    'holiday',
    'budget',
    'project',
    'meeting',
    'notes',
    'family',
    'garden',
    'invoice',
    'travel',
    'recipe',
    'draft',
    'review',
    'summer',
    'plan',
    'cloud',
    'archive',
    'weekend',
    'report',
    'ideas',
    'list',
    'friends',
    'school',
    'music',
    'the',
    'a',
    'and',
    'for',
    'with',
    'next',
    'week',
    'again',
    'before',
    'after',
    'share',
    'keep',
    'check',
  ];
  const sentence = () => {
    const n = 6 + Math.floor(rand() * 10);
    const w = Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]!);
    return w.join(' ').replace(/^./, (c) => c.toUpperCase()) + '.';
  };
  const body = Array.from({ length: paragraphs }, () =>
    Array.from({ length: 3 + Math.floor(rand() * 4) }, sentence).join(' '),
  );
  return `${title}\n${'='.repeat(title.length)}\n\n${body.join('\n\n')}\n`;
}

/** A small CSV table (a budget, a packing list...). */
export function sampleCsv(seed: number, rows = 20): string {
  const rand = rng(seed);
  const items = ['Rent', 'Food', 'Travel', 'Books', 'Phone', 'Gym', 'Gifts', 'Garden', 'Energy'];
  const lines = ['date,item,amount'];
  for (let i = 0; i < rows; i++) {
    const day = String(1 + Math.floor(rand() * 28)).padStart(2, '0');
    const month = String(1 + (i % 12)).padStart(2, '0');
    const item = items[Math.floor(rand() * items.length)]!;
    lines.push(`2025-${month}-${day},${item},${(5 + rand() * 400).toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}

/** What each cloud drive holds in the demo: path -> bytes (photos, documents, a spreadsheet). */
export function driveContents(cloud: string, seed: number): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  const text = (path: string, s: string) => (files[path] = Buffer.from(s, 'utf8'));
  // The first photo of each folder weighs a few MB, like a phone camera's.
  const photos = (folder: string, prefix: string, count: number, month: number) => {
    for (let i = 1; i <= count; i++) {
      const card = postcardJpeg(seed * 1000 + i, month);
      files[`${folder}/${prefix}${String(i).padStart(4, '0')}.jpg`] =
        i === 1 ? heavyJpeg(card, 3.5 * MB, seed * 1000 + i) : card;
    }
  };
  const video = (path: string, mb: number) => (files[path] = sampleVideo(mb * MB, seed + mb));
  switch (cloud) {
    case 'google-drive':
      text('Documents/Project plan.txt', sampleText('Project plan', seed + 1));
      text('Documents/Meeting notes.md', sampleText('# Meeting notes', seed + 2, 6));
      text('Documents/Budget 2025.csv', sampleCsv(seed + 3));
      text('Recipes/Pancakes.txt', sampleText('Pancakes', seed + 4, 2));
      text('Recipes/Tomato soup.txt', sampleText('Tomato soup', seed + 5, 2));
      photos('Photos/Hiking trip', 'DSC_', 12, 6);
      video('Photos/Hiking trip/VID_0001.mp4', 8);
      break;
    case 'onedrive':
      text('Documents/CV.txt', sampleText('Curriculum vitae', seed + 1, 5));
      text('Documents/Taxes 2024/Receipts.csv', sampleCsv(seed + 2, 40));
      text('Documents/Taxes 2024/Notes.txt', sampleText('Tax notes', seed + 3));
      text('Desktop/To do.txt', sampleText('To do', seed + 4, 1));
      photos('Pictures/Camera Roll', 'WIN_', 10, 9);
      video('Pictures/Camera Roll/WIN_0011.mp4', 5);
      break;
    case 'dropbox':
      text('Work/Report draft.md', sampleText('# Quarterly report (draft)', seed + 1, 8));
      text('Work/Contacts.csv', sampleCsv(seed + 2, 15));
      text('Shared with family/Read me.txt', sampleText('Read me', seed + 3, 1));
      photos('Camera Uploads', 'PXL_', 15, 4);
      video('Camera Uploads/PXL_0016.mp4', 6);
      break;
    default:
      throw new Error(`no sample contents for ${cloud}`);
  }
  return files;
}
