/**
 * A stable colour per nick: XEP-0392 "Consistent Color Generation" v0.8.0, section 5.1 (angle):
 * the SHA-1 of the UTF-8 identifier, its first two bytes read as a little-endian 16-bit number,
 * divided by 65536 and scaled to a hue angle in degrees. Section 5.2 turns the angle into RGB
 * with HSLuv (saturation 100, lightness 50); a 256-colour terminal has only a 6x6x6 cube anyway,
 * so here the hue goes through plain HSL (full saturation, 50% lightness) and the nearest cube
 * colour is taken, avoiding the grey-ish corners that would be unreadable on either background.
 * Same nick, same colour, in every session and in every XEP-0392 client (up to the palette).
 */
import { createHash } from 'node:crypto';

/** XEP-0392 5.1: the hue angle of `id`, in [0, 360). */
export function hueAngle(id: string): number {
  const h = createHash('sha1').update(id, 'utf8').digest();
  const n = h[0]! | (h[1]! << 8);
  return (n / 65536) * 360;
}

/** RGB (0-255 each) of the hue at full saturation and 50% lightness. */
export function hueToRgb(angle: number): [number, number, number] {
  const h = angle / 60;
  const x = 1 - Math.abs((h % 2) - 1);
  const [r, g, b] =
    h < 1
      ? [1, x, 0]
      : h < 2
        ? [x, 1, 0]
        : h < 3
          ? [0, 1, x]
          : h < 4
            ? [0, x, 1]
            : h < 5
              ? [x, 0, 1]
              : [1, 0, x];
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

const LEVELS = [0, 95, 135, 175, 215, 255];

/** The xterm 256-colour cube index (16-231) nearest to an RGB colour. */
export function rgbTo256(r: number, g: number, b: number): number {
  const q = (v: number) => {
    let best = 0;
    for (let i = 1; i < LEVELS.length; i++) {
      if (Math.abs(LEVELS[i]! - v) < Math.abs(LEVELS[best]! - v)) best = i;
    }
    return best;
  };
  return 16 + 36 * q(r) + 6 * q(g) + q(b);
}

const cache = new Map<string, number>();

/** The palette colour for a nick (or a JID). */
export function nickColour(nick: string): number {
  let c = cache.get(nick);
  if (c === undefined) {
    c = rgbTo256(...hueToRgb(hueAngle(nick)));
    if (cache.size > 2000) cache.clear();
    cache.set(nick, c);
  }
  return c;
}
