// The session's binary frame: uint32 LE header length | JSON header | 4-byte aligned blocks (see docs/web.md).

const TYPED_ARRAYS = { uint8: Uint8Array, float32: Float32Array, float16: Uint16Array };

export function decodeFrame(buffer) {
  const length = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  const start = 4 + length;
  const arrays = {};
  for (const block of header.blocks) {
    const count = block.shape.reduce((product, n) => product * n, 1);
    arrays[block.name] = new TYPED_ARRAYS[block.dtype](buffer, start + block.offset, count);
  }
  return { header, arrays };
}

// The block's quantised byte q stands for range[0] + q / 255 * (range[1] - range[0]).
export function dequantize(q, range) {
  return range[0] + (q / 255) * (range[1] - range[0]);
}
