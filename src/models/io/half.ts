/**
 * IEEE binary16 (F16) and bfloat16 (BF16) <-> float32 conversions, bit-exact.
 *
 * NOTE: widening (F16/BF16 -> F32) is exact for every value, subnormals, infinities and NaN
 * payloads included. Narrowing (F32 -> F16/BF16) rounds to nearest, ties to even, overflows to
 * +-inf exactly as IEEE 754 (so 65520 -> inf in F16), flushes nothing (F16 subnormals are
 * produced), and keeps NaN a NaN with the quiet bit set.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Float32 bit pattern of `x` (after rounding `x` to float32). */
export function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0]!;
}

/** The float32 value with bit pattern `bits`. */
export function f32FromBits(bits: number): number {
  u32Scratch[0] = bits >>> 0;
  return f32Scratch[0]!;
}

/** Float32 bit pattern of the F16 value with bits `h` (exact). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN (payload kept)
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0; // +-0
  // Subnormal: mant * 2^-24; renormalise so the leading 1 becomes the implicit bit.
  let e = -14;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e -= 1;
  }
  return (sign | ((e + 127) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

let f16Table: Float32Array | undefined;
/** All 65536 F16 values as float32, built once (256 KiB) so bulk widening is one lookup each. */
function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const bits = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) bits[h] = f16BitsToF32Bits(h);
  f16Table = new Float32Array(bits.buffer);
  return f16Table;
}

/** F16 bits of float32 bits `x`, rounded to nearest even. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is an F16 subnormal (or zero): q = round(M * 2^(exp - 126)) with M the 24-bit significand.
    const shift = 126 - exp;
    if (shift > 24) return sign; // below half the smallest subnormal
    const m = exp === 0 ? mant : mant | 0x800000;
    let q = m >>> shift;
    const r = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (r > half || (r === half && (q & 1) === 1)) q += 1; // may carry into the smallest normal: correct
    return sign | q;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const r = mant & 0x1fff;
  if (r > 0x1000 || (r === 0x1000 && (h & 1) === 1)) h += 1; // carry may reach the exponent / inf: correct
  return h;
}

/** BF16 bits of float32 bits `x`, rounded to nearest even. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff; // NaN: keep it quiet
  return ((x + 0x7fff + ((x >>> 16) & 1)) / 65536) & 0xffff;
}

/** Widen F16 bit patterns (n) to float32 (n), exactly. */
export function f16ToF32(src: Uint16Array): Float32Array {
  const table = f16ToF32Table();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
  return out;
}

/** Widen BF16 bit patterns (n) to float32 (n), exactly (bf16 is the top half of an f32). */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const bits = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return new Float32Array(bits.buffer);
}

/** Narrow float32 (n) to F16 bit patterns (n), round to nearest even. */
export function f32ToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16Bits(bits[i]!);
  return out;
}

/** Narrow float32 (n) to BF16 bit patterns (n), round to nearest even. */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16Bits(bits[i]!);
  return out;
}
