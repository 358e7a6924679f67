// Draws the app icons (no dependencies): a silver "Q" ring with a blue tail on a dark tile.
// Writes public/icons/*.png, public/icons/icon.svg and public/favicon.ico. Run: npm run icons
// The PNGs are committed; rerun only when the design changes.
//
// Shapes are signed-distance functions in unit coordinates (0..1, y down), rendered with 4x4
// supersampling per pixel, so edges are anti-aliased at every size.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'public', 'icons');
mkdirSync(outDir, { recursive: true });

const BG_TOP = [0x1a, 0x22, 0x30];
const BG_BOTTOM = [0x0b, 0x0f, 0x16];
const SILVER_TOP = [0xf1, 0xf5, 0xfa];
const SILVER_BOTTOM = [0x7d, 0x8a, 0x9e];
const ACCENT = [0x5b, 0x93, 0xf5];

// The mark, in unit coordinates.
const RING = { cx: 0.48, cy: 0.47, r: 0.2, width: 0.105 }; // ring centre radius and stroke width
const TAIL = { x0: 0.56, y0: 0.56, x1: 0.72, y1: 0.72, width: 0.095 };

const sdRoundRect = (x, y, half, radius) => {
  const qx = Math.abs(x - 0.5) - half + radius;
  const qy = Math.abs(y - 0.5) - half + radius;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
};
const sdRing = (x, y) => Math.abs(Math.hypot(x - RING.cx, y - RING.cy) - RING.r) - RING.width / 2;
const sdSegment = (x, y, { x0, y0, x1, y1, width }) => {
  const dx = x1 - x0, dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) - width / 2;
};
const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);

/**
 * Colour and alpha of one sample. `scale` shrinks the mark toward the centre (maskable icons
 * keep it inside the 80% safe zone); `tile`: 'rounded' (transparent corners) or 'full'.
 */
function sample(x, y, scale, tile) {
  const bgInside = tile === 'full' ? true : sdRoundRect(x, y, 0.5, 0.2) <= 0;
  if (!bgInside) return [0, 0, 0, 0];
  let color = mix(BG_TOP, BG_BOTTOM, y);
  const mx = (x - 0.5) / scale + 0.5;
  const my = (y - 0.5) / scale + 0.5;
  if (sdRing(mx, my) <= 0) {
    // Metallic: light from the top left.
    const t = Math.min(1, Math.max(0, (my - (RING.cy - RING.r) + (mx - RING.cx) * 0.4) / (2.2 * RING.r)));
    color = mix(SILVER_TOP, SILVER_BOTTOM, t);
  }
  // The Q's tail crosses the ring, with a thin dark outline where it overlaps.
  const tail = sdSegment(mx, my, TAIL);
  if (tail <= 0) color = ACCENT;
  else if (tail <= 0.018 && sdRing(mx, my) <= 0) color = BG_BOTTOM;
  return [...color, 255];
}

function render(size, { scale = 1, tile = 'rounded' } = {}) {
  const ss = 4;
  const px = Buffer.alloc(size * size * 4);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const acc = [0, 0, 0, 0];
      for (let sj = 0; sj < ss; sj++) {
        for (let si = 0; si < ss; si++) {
          const s = sample((i + (si + 0.5) / ss) / size, (j + (sj + 0.5) / ss) / size, scale, tile);
          // premultiplied accumulation so transparent samples do not darken edges
          acc[0] += s[0] * s[3];
          acc[1] += s[1] * s[3];
          acc[2] += s[2] * s[3];
          acc[3] += s[3];
        }
      }
      const o = (j * size + i) * 4;
      const a = acc[3] / (ss * ss);
      px[o] = acc[3] ? Math.round(acc[0] / acc[3]) : 0;
      px[o + 1] = acc[3] ? Math.round(acc[1] / acc[3]) : 0;
      px[o + 2] = acc[3] ? Math.round(acc[2] / acc[3]) : 0;
      px[o + 3] = Math.round(a);
    }
  }
  return encodePng(size, size, px);
}

// ---- PNG (RGBA8, no filtering) -----------------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function encodePng(w, h, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((w * 4 + 1) * h);
  for (let y = 0; y < h; y++) rgba.copy(raw, y * (w * 4 + 1) + 1, y * w * 4, (y + 1) * w * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- ICO holding one PNG -----------------------------------------------------------------------
function encodeIco(size, png) {
  const header = Buffer.alloc(6 + 16);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // count
  header[6] = size; // width
  header[7] = size; // height
  header.writeUInt16LE(1, 10); // planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(22, 18); // offset of the PNG
  return Buffer.concat([header, png]);
}

// ---- SVG (same geometry, for the header logo and browsers that take SVG favicons) -------------
function svg() {
  const f = (v) => +(v * 512).toFixed(1);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1a2230"/><stop offset="1" stop-color="#0b0f16"/>
    </linearGradient>
    <linearGradient id="silver" x1="0.3" y1="0" x2="0.6" y2="1">
      <stop offset="0" stop-color="#f1f5fa"/><stop offset="1" stop-color="#7d8a9e"/>
    </linearGradient>
  </defs>
  <rect width="512" height="512" rx="${f(0.2)}" fill="url(#bg)"/>
  <circle cx="${f(RING.cx)}" cy="${f(RING.cy)}" r="${f(RING.r)}" fill="none" stroke="url(#silver)" stroke-width="${f(RING.width)}"/>
  <line x1="${f(TAIL.x0)}" y1="${f(TAIL.y0)}" x2="${f(TAIL.x1)}" y2="${f(TAIL.y1)}" stroke="#0b0f16" stroke-width="${f(TAIL.width + 0.036)}" stroke-linecap="round"/>
  <line x1="${f(TAIL.x0)}" y1="${f(TAIL.y0)}" x2="${f(TAIL.x1)}" y2="${f(TAIL.y1)}" stroke="#5b93f5" stroke-width="${f(TAIL.width)}" stroke-linecap="round"/>
</svg>
`;
}

const outputs = [
  ['icon-192.png', render(192)],
  ['icon-512.png', render(512)],
  // maskable: full-bleed background, mark inside the central 80% safe zone
  ['icon-maskable-512.png', render(512, { scale: 0.78, tile: 'full' })],
  // iOS rounds the corners itself and shows transparency as black
  ['apple-touch-icon-180.png', render(180, { scale: 0.9, tile: 'full' })],
];
for (const [name, data] of outputs) writeFileSync(join(outDir, name), data);
writeFileSync(join(outDir, 'icon.svg'), svg());
writeFileSync(join(root, 'public', 'favicon.ico'), encodeIco(32, render(32)));
console.log(`icons written to ${outDir} and public/favicon.ico`);
