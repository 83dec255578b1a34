/*
 * The inner loop of the abstract-dump scan (src/scan/docfind.ts, xml.ts)
 * in WebAssembly SIMD.
 *
 * find(): one call finds every `<doc>` of a window of up to 64 KiB, where
 * Buffer.indexOf costs a call per doc and runs at the speed of memchr on '<'
 * (which comes every 15 bytes or so in the dump). 64 bytes a step: four
 * 16-byte lanes, each the AND of three lane compares ('<' at i, 'd' at i+1,
 * '>' at i+4: unaligned loads), so the speed does not depend on how often '<'
 * occurs; the rare candidates are checked byte by byte.
 *
 * scan(): find(), then the scanner's fast path over each doc found (fast():
 * readDocFast of xml.ts, byte for byte), so that a doc nobody wants costs
 * no JS but a table lookup.
 *
 * No libc, no allocation, no stack: the JS side owns the memory (imported)
 * and says where everything is.
 *
 * Rebuild: node bench/build-wasm.mjs (it writes docfind.wasm.ts beside this
 * file; the command is in its header). test/docfind.test.ts checks that the
 * embedded bytes are what this file compiles to, when clang is installed.
 */
#include <stdint.h>
#include <wasm_simd128.h>

static inline v128_t candidates(const uint8_t *p) {
  const v128_t lt = wasm_i8x16_splat('<'), d = wasm_i8x16_splat('d'), gt = wasm_i8x16_splat('>');
  return wasm_v128_and(wasm_v128_and(wasm_i8x16_eq(wasm_v128_load(p), lt), wasm_i8x16_eq(wasm_v128_load(p + 1), d)),
                       wasm_i8x16_eq(wasm_v128_load(p + 4), gt));
}

/*
 * Writes to out[] `base + p` for every `<doc>` that starts at buf + p with
 * 0 <= p < scan and ends within the buffer (p + 5 <= avail), in order; returns
 * how many. Reads up to scan + 68 bytes from buf (the caller pads its memory):
 * what lies past `avail` is never reported.
 */
__attribute__((export_name("find")))
uint32_t find(const uint8_t *buf, uint32_t scan, uint32_t avail, int32_t *out, int32_t base) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < scan; i += 64) {
    v128_t a = candidates(buf + i), b = candidates(buf + i + 16), c = candidates(buf + i + 32), e = candidates(buf + i + 48);
    if (!wasm_v128_any_true(wasm_v128_or(wasm_v128_or(a, b), wasm_v128_or(c, e)))) continue;
    uint64_t bits = (uint64_t)wasm_i8x16_bitmask(a) | ((uint64_t)wasm_i8x16_bitmask(b) << 16) |
                    ((uint64_t)wasm_i8x16_bitmask(c) << 32) | ((uint64_t)wasm_i8x16_bitmask(e) << 48);
    while (bits) {
      uint32_t p = i + (uint32_t)__builtin_ctzll(bits);
      bits &= bits - 1;
      if (p < scan && p + 5 <= avail && buf[p + 2] == 'o' && buf[p + 3] == 'c') out[n++] = base + (int32_t)p;
    }
  }
  return n;
}

/* buf[i]; when `checked`, 256 (matches nothing) at or past len and before 0, as `undefined` in JS */
static inline int32_t at(const uint8_t *buf, int32_t len, int32_t i, const int checked) {
  return !checked || (uint32_t)i < (uint32_t)len ? (int32_t)buf[i] : 256;
}
#define AT(i) at(buf, len, (i), checked)
#define SPACE(b) ((b) == '\n' || (b) == ' ' || (b) == '\r' || (b) == '\t')

/*
 * The scanner's fast path (readDocFast in xml.ts, byte for byte) over
 * the doc buf[s, e): `<doc>`, `<title>` text `</title>`, `<url>` and a URL,
 * ..., `</doc>` and whitespace. Returns where `</doc>` ends, with the FNV-1a
 * hash of the title's key in *hash; or -1 when the doc is not laid out so.
 * A byte at or past `len` (or before 0) matches nothing, as `undefined` in JS.
 *
 * Unchecked (`checked` 0), for a doc that starts with `<doc>` and is followed
 * by at least 16 bytes: every byte read is then in buf[s, e + 16). (Backwards
 * from e the search stops at the `>` of buf[s, s + 5); forwards a `</title>`
 * matched ends before the `<doc>` at e, and the search after it stops at e.)
 */
static inline int32_t fast(const uint8_t *buf, int32_t len, int32_t s, int32_t e, int32_t *hash, const int checked) {
  int32_t j = e;
  int32_t b = AT(j - 1);
  while (SPACE(b)) {
    j--;
    b = AT(j - 1);
  }
  if (j - 11 < s || b != '>' || AT(j - 2) != 'c' || AT(j - 3) != 'o' || AT(j - 4) != 'd' || AT(j - 5) != '/' || AT(j - 6) != '<') return -1;
  int32_t i = s + 5;
  b = AT(i);
  while (SPACE(b)) {
    i++;
    b = AT(i);
  }
  if (i + 40 > j) return -1;
  if (b != '<' || AT(i + 1) != 't' || AT(i + 2) != 'i' || AT(i + 3) != 't' || AT(i + 4) != 'l' || AT(i + 5) != 'e' || AT(i + 6) != '>') return -1;
  i += 7;
  if (AT(i) == 'W' && AT(i + 1) == 'i' && AT(i + 2) == 'k' && AT(i + 3) == 'i' && AT(i + 4) == 'p' && AT(i + 5) == 'e' &&
      AT(i + 6) == 'd' && AT(i + 7) == 'i' && AT(i + 8) == 'a' && AT(i + 9) == ':' && AT(i + 10) == ' ')
    i += 11;
  const int32_t keyStart = i;
  uint32_t h = 0x811c9dc5u;
  for (;;) {
    if (i >= j) return -1;
    b = AT(i);
    i++;
    if (b == '<') break;
    if (b == '&') {
      const int32_t c = AT(i);
      if (c == 'a' && AT(i + 1) == 'm' && AT(i + 2) == 'p' && AT(i + 3) == ';') b = '&', i += 4;
      else if (c == 'l' && AT(i + 1) == 't' && AT(i + 2) == ';') b = '<', i += 3;
      else if (c == 'g' && AT(i + 1) == 't' && AT(i + 2) == ';') b = '>', i += 3;
      else if (c == 'q' && AT(i + 1) == 'u' && AT(i + 2) == 'o' && AT(i + 3) == 't' && AT(i + 4) == ';') b = '"', i += 5;
      else if (c == 'a' && AT(i + 1) == 'p' && AT(i + 2) == 'o' && AT(i + 3) == 's' && AT(i + 4) == ';') b = '\'', i += 5;
      else return -1;
    }
    h = (h ^ (uint32_t)b) * 0x01000193u;
  }
  if (i - 1 == keyStart || AT(i) != '/' || AT(i + 1) != 't' || AT(i + 2) != 'i' || AT(i + 3) != 't' || AT(i + 4) != 'l' || AT(i + 5) != 'e' || AT(i + 6) != '>')
    return -1;
  i += 7;
  b = AT(i);
  while (SPACE(b)) {
    i++;
    b = AT(i);
  }
  if (b != '<' || AT(i + 1) != 'u' || AT(i + 2) != 'r' || AT(i + 3) != 'l' || AT(i + 4) != '>' || AT(i + 5) == '<' || i + 6 > j) return -1;
  *hash = (int32_t)h;
  return j;
}

/*
 * Every `<doc>` that starts in buf[from, to) and ends within buf[0, len), as
 * triples out[3n..3n+2]: its offset p, then the fast path over the doc before
 * it, buf[prev, p) (prev: the `<doc>` found before, or `seg` for the first;
 * -1 when seg < 0): where that doc's `</doc>` ends or -1, and its key hash.
 * Returns how many. Reads up to to + 68 (the caller pads its memory).
 */
__attribute__((export_name("scan")))
uint32_t scan(const uint8_t *buf, int32_t len, int32_t seg, int32_t from, int32_t to, int32_t *out) {
  uint32_t n = find(buf + from, (uint32_t)(to - from), (uint32_t)(len - from), out, from);
  /* spread the offsets into triples, from the last (they do not overlap: 3n >= n) */
  for (uint32_t k = n; k-- > 0;) out[3 * k] = out[k];
  int32_t prev = seg;
  for (uint32_t k = 0; k < n; k++) {
    const int32_t p = out[3 * k];
    int32_t hash = 0;
    out[3 * k + 1] = prev < 0 ? -1 : k > 0 && p + 16 <= len ? fast(buf, len, prev, p, &hash, 0) : fast(buf, len, prev, p, &hash, 1);
    out[3 * k + 2] = hash;
    prev = p;
  }
  return n;
}
