/**
 * The 32-bit FNV-1a hash (as a signed int32: a small integer to V8) of a page key's UTF-8 bytes. The scanner hashes a
 * title's decoded bytes as it reads them, and the wanted keys are hashed with
 * the same function, so that a doc is looked up without making a string.
 */

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h | 0;
}

const encoder = new TextEncoder();

export function hashKey(key: string): number {
  return hashBytes(encoder.encode(key));
}
