/** 0/1 flags packed 8 to a byte (bit i of byte j is flag 8j + i), as base64: a test set's right/wrong per image in a record. */
export function packBits(flags: ArrayLike<number>): string {
  const bytes = new Uint8Array(Math.ceil(flags.length / 8));
  for (let i = 0; i < flags.length; i++) if (flags[i]) bytes[i >> 3] |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

/** The first `count` flags of `packBits` output. */
export function unpackBits(packed: string, count: number): Uint8Array {
  const bytes = Buffer.from(packed, 'base64');
  if (bytes.length * 8 < count) throw new Error(`${bytes.length * 8} packed flags, ${count} expected`);
  return Uint8Array.from({ length: count }, (_, i) => (bytes[i >> 3] >> (i & 7)) & 1);
}
