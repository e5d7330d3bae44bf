/**
 * The float32 AdamW update (./adamw.ts adamWSegment32) as a WebAssembly SIMD kernel: four lanes per
 * instruction instead of one JS double op plus a Math.fround per step. WebAssembly's f32x4 add, sub,
 * mul, div and sqrt are correctly rounded IEEE float32 operations, and for these operations a
 * float64 result rounded to float32 is the correctly rounded float32 result, so the kernel gives
 * the JS update's bits (and hence the graph form's; tested). The module is a few hundred bytes
 * assembled below (no toolchain), with a 4-array scratch memory: the JS side copies a chunk of p, m,
 * v, g in, the kernel updates it in place, and the JS side copies p, m, v out (cache-resident copies:
 * the data is still read from and written to main memory once).
 */
/** The step's scalars and decay form as ./adamw.ts computes them (AdamWScalars, DecayForm). */
interface Scalars {
  c1: number;
  c2: number;
  eps: number;
  bc2: number;
  stepSize: number;
  lw: number;
  keep: number;
  gradScale: number;
}
type Decay = 'none' | 'masked-on' | 'masked-off' | 'scaled';

/** Floats per array per chunk (4 arrays x 32 KB: the module's 2 pages). */
const CHUNK = 8192;
const BYTES = CHUNK * 4;

const leb = (x: number): number[] => {
  const out: number[] = [];
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
  return out;
};
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const str = (s: string): number[] => [...leb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// Opcodes (WebAssembly core + SIMD proposal, standard since Node 16).
const GET = 0x20;
const SET = 0x21;
const simd = (op: number) => [0xfd, ...leb(op)];
const load = (off: number) => [...simd(0x00), 4, ...leb(off)];
const store = (off: number) => [...simd(0x0b), 4, ...leb(off)];
const SPLAT = simd(0x13);
const SQRT = simd(0xe3);
const ADD = simd(0xe4);
const SUB = simd(0xe5);
const MUL = simd(0xe6);
const DIV = simd(0xe7);

// Locals: params (nbytes i32, gradScale, c1, c2, eps, bc2, stepSize, k: f32; k is keep for the
// scaled form, lr wd for the masked form), then i (i32) and the v128s.
const [NB, I] = [0, 8];
const [VGS, VC1, VC2, VEPS, VBC2, VSS, VK, GI, M2, V2, UPD] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const [P, M, V, G] = [0, BYTES, 2 * BYTES, 3 * BYTES];

/** The body of one kernel: the op order of adamWSegment32, lane by lane. */
function body(scaled: boolean): number[] {
  const splats = [VGS, VC1, VC2, VEPS, VBC2, VSS, VK].flatMap((v, k) => [GET, k + 1, ...SPLAT, SET, v]);
  const at = (off: number) => [GET, I, ...load(off)];
  const decayed = scaled ? [...at(P), GET, VK, ...MUL] : [...at(P), ...at(P), GET, VK, ...MUL, ...SUB];
  const loop = [
    ...[GET, I, GET, NB, 0x4f, 0x0d, 1], // i >= nbytes: break
    ...[...at(G), GET, VGS, ...MUL, SET, GI], // gi = g gs
    ...[...at(M), GET, GI, ...at(M), ...SUB, GET, VC1, ...MUL, ...ADD, SET, M2], // m + (gi - m) c1
    ...[...at(V), GET, GI, GET, GI, ...MUL, ...at(V), ...SUB, GET, VC2, ...MUL, ...ADD, SET, V2], // v + (gi gi - v) c2
    ...[GET, M2, GET, V2, GET, VBC2, ...DIV, ...SQRT, GET, VEPS, ...ADD, ...DIV, GET, VSS, ...MUL, SET, UPD],
    ...[GET, I, GET, M2, ...store(M), GET, I, GET, V2, ...store(V)],
    ...[GET, I, ...decayed, GET, UPD, ...SUB, ...store(P)],
    ...[GET, I, 0x41, 16, 0x6a, SET, I, 0x0c, 0], // i += 16; continue
  ];
  const code = [
    ...vec([
      [1, 0x7f],
      [11, 0x7b],
    ]),
    ...splats,
    0x02,
    0x40,
    0x03,
    0x40,
    ...loop,
    0x0b,
    0x0b,
    0x0b,
  ];
  return [...leb(code.length), ...code];
}

function assemble(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vec([[0x7f], ...Array.from({ length: 7 }, () => [0x7d])]), 0];
  const exp = (name: string, kind: number, idx: number) => [...str(name), kind, idx];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(3, vec([[0], [0]])),
    ...section(5, vec([[0x00, (4 * BYTES) / 65536]])),
    ...section(7, vec([exp('mem', 2, 0), exp('scaled', 0, 0), exp('masked', 0, 1)])),
    ...section(10, vec([body(true), body(false)])),
  ]);
}

type Kernel = (
  nbytes: number,
  gs: number,
  c1: number,
  c2: number,
  eps: number,
  bc2: number,
  ss: number,
  k: number,
) => void;

interface Simd {
  p: Float32Array;
  m: Float32Array;
  v: Float32Array;
  g: Float32Array;
  scaled: Kernel;
  masked: Kernel;
}

let instance: Simd | null | undefined;

/** The kernel, instantiated once per process; null where WebAssembly SIMD is unavailable. */
function simdKernel(): Simd | null {
  if (instance !== undefined) return instance;
  try {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(assemble()));
    const buf = (exports['mem'] as WebAssembly.Memory).buffer;
    instance = {
      p: new Float32Array(buf, P, CHUNK),
      m: new Float32Array(buf, M, CHUNK),
      v: new Float32Array(buf, V, CHUNK),
      g: new Float32Array(buf, G, CHUNK),
      scaled: exports['scaled'] as Kernel,
      masked: exports['masked'] as Kernel,
    };
  } catch {
    instance = null;
  }
  return instance;
}

/**
 * `adamWSegment32` by the SIMD kernel (same arguments, same bits). Returns false, having done
 * nothing, where WebAssembly SIMD is unavailable.
 */
export function adamWSegment32Simd(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  grad: Float32Array | null,
  off: number,
  n: number,
  s: Scalars,
  decay: Decay,
): boolean {
  const k = simdKernel();
  if (!k) return false;
  const scaled = decay === 'scaled';
  const run = scaled ? k.scaled : k.masked;
  const last = scaled ? s.keep : decay === 'masked-on' ? s.lw : 0;
  for (let i = 0; i < n; i += CHUNK) {
    const len = Math.min(CHUNK, n - i);
    const a = off + i;
    k.p.set(p.subarray(a, a + len));
    k.m.set(m.subarray(a, a + len));
    k.v.set(v.subarray(a, a + len));
    if (grad) k.g.set(grad.subarray(i, i + len));
    else k.g.fill(0, 0, len);
    // Lanes past len (up to a multiple of 4) hold stale values whose results are never copied out.
    run(((len + 3) >> 2) << 4, s.gradScale, s.c1, s.c2, s.eps, s.bc2, s.stepSize, last);
    pOut.set(k.p.subarray(0, len), a);
    mOut.set(k.m.subarray(0, len), a);
    vOut.set(k.v.subarray(0, len), a);
  }
  return true;
}
