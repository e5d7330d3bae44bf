/**
 * A manifest exercising every supported encoding (split over two shards mid-weight by the reader
 * test), with the values it decodes to. Shared by the tfjs reader test and the tfjs oracle generator
 * (scripts/oracle/use-lite-tfjs.ts), so the frozen tfjs answer is for exactly these bytes.
 */
export function tfjsWeightsFixture() {
  const specs = [
    { name: 'f32', shape: [2, 2], dtype: 'float32' },
    { name: 'i32', shape: [3], dtype: 'int32' },
    { name: 'scalar', shape: [], dtype: 'float32' },
    { name: 'q8', shape: [4], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
    { name: 'q16i', shape: [2], dtype: 'int32', quantization: { dtype: 'uint16', scale: 0.3, min: 2 } },
    { name: 'h', shape: [6], dtype: 'float32', quantization: { dtype: 'float16' } },
  ];
  const bytes: number[] = [];
  const dv = new DataView(new ArrayBuffer(4));
  const push32 = (f: (v: DataView) => void) => {
    f(dv);
    for (let i = 0; i < 4; i++) bytes.push(dv.getUint8(i));
  };
  for (const v of [1.5, -2.25, 3e-8, 1e10]) push32((d) => d.setFloat32(0, v, true));
  for (const v of [7, -8, 2147483647]) push32((d) => d.setInt32(0, v, true));
  push32((d) => d.setFloat32(0, Math.PI, true));
  bytes.push(0, 1, 2, 255);
  for (const v of [0, 10]) bytes.push(v & 255, v >> 8);
  for (const h of [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0xfc00]) bytes.push(h & 255, h >> 8);
  const all = Uint8Array.from(bytes);
  const expected = new Map<string, number[]>([
    ['f32', [1.5, -2.25, Math.fround(3e-8), 1e10]],
    ['i32', [7, -8, 2147483647]],
    ['scalar', [Math.fround(Math.PI)]],
    ['q8', [-1, -0.5, 0, 126.5]],
    ['q16i', [2, 5]],
    ['h', [1, -2, 65504, 2 ** -24, 0.333251953125, -Infinity]],
  ]);
  return { specs, all, expected };
}
