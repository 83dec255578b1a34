#!/usr/bin/env python3
"""The selection of SPEC section 3, read on its own terms.

Usage: oracle.py CSV TOP MIN_BUDGET
       oracle.py --refs VALUES.json   (a genres/companies value each: its refs, or null when bad)

Prints {"report": {...}, "films": [...]} as JSON, films in rank order, the
report with the lines of the malformed rows. Written from SPEC section 3 and,
where SPEC is silent, from docs/selection.md: never from the product's code.
Python's csv module reads the CSV, Python's float() the numbers, ast the
literals, datetime the dates.

When the file is not UTF-8 (over 1% of its rows hold bytes that are not), it
prints {"error": "CSV_ENCODING", "rows": N, "not_utf8": K, "line": L} and exits 3.
"""
import ast
import csv
import datetime
import io
import json
import math
import re
import struct
import sys
import tokenize
import warnings

# docs/selection.md, "White space"
WHITE_SPACE = ''.join(map(chr, [*range(0x09, 0x0E), 0x20, 0xA0, 0x1680, *range(0x2000, 0x200B),
                                0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF]))
ASCII_DIGITS = '0123456789'
INT4 = (-2**31, 2**31 - 1)


def value(text):
    return text.strip(WHITE_SPACE)


def storable(text):
    """No NUL; a lone surrogate as U+FFFD (docs/selection.md, names)."""
    text = text.replace('\x00', '')
    return ''.join('\ufffd' if '\ud800' <= ch <= '\udfff' else ch for ch in text)


# ---- numbers: docs/selection.md, "Numbers" ----------------------------------

def digits_at(text, i):
    j = i
    while j < len(text) and text[j] in ASCII_DIGITS:
        j += 1
    return j


def is_number(text):
    """[sign] digits [. digits] [e [sign] digits], at least one digit before the exponent."""
    i = 1 if text[:1] in ('+', '-') else 0
    j = digits_at(text, i)
    count = j - i
    if j < len(text) and text[j] == '.':
        k = digits_at(text, j + 1)
        count += k - j - 1
        j = k
    if count == 0:
        return False
    if j < len(text) and text[j] in 'eE':
        j += 1
        if j < len(text) and text[j] in '+-':
            j += 1
        k = digits_at(text, j)
        if k == j:
            return False
        j = k
    return j == len(text)


def number(text):
    """The nearest double, or None when the text is not a number."""
    return float(text) if is_number(text) else None


def fits_bigint(x):
    return x is not None and math.isfinite(x) and x.is_integer() and -2.0**63 <= x < 2.0**63


def fits_integer(x):
    return x is not None and math.isfinite(x) and x.is_integer() and INT4[0] <= x <= INT4[1]


def as_real(x):
    """x rounded to single precision, or None when that is not finite."""
    if x is None or not math.isfinite(x):
        return None
    try:
        return struct.unpack('<f', struct.pack('<f', x))[0]
    except OverflowError:
        return None


def shortest_real(single):
    """A real as PostgreSQL prints it: the shortest decimal that reads back as the same real."""
    for precision in range(1, 10):
        candidate = float('%.*g' % (precision, single))
        if as_real(candidate) == single:
            return candidate
    return single


def is_id(text):
    return (text != '' and all(ch in ASCII_DIGITS for ch in text) and text[0] != '0'
            and int(text) <= INT4[1])


def valid_date(text):
    """YYYY-MM-DD, ASCII digits, a real day of years 1 to 9999."""
    if len(text) != 10 or text[4] != '-' or text[7] != '-':
        return None
    parts = text[:4], text[5:7], text[8:]
    if not all(ch in ASCII_DIGITS for part in parts for ch in part):
        return None
    try:
        return datetime.date(*map(int, parts))
    except ValueError:
        return None


# ---- literals: docs/selection.md, "Genres and production companies" ----------

MAX_DEPTH = 64
ALLOWED_KEYS = (str, int, float, bool, type(None))


def within_subset(text, tree):
    """Whether a parsed literal stays within the subset the docs name."""
    def walk(node, depth):
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, ast.Tuple) and not ast.get_source_segment(text, node).startswith('('):
            return False  # a tuple in its parentheses only
        if isinstance(node, (ast.List, ast.Tuple)):
            return all(walk(e, depth + 1) for e in node.elts)
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):  # {**x}
                return False
            if any(not (isinstance(k, ast.Constant) and isinstance(k.value, ALLOWED_KEYS))
                   and not signed_number(k) for k in node.keys):
                return False
            return all(walk(k, depth + 1) for k in node.keys) and all(walk(v, depth + 1) for v in node.values)
        if signed_number(node):
            return True
        return isinstance(node, ast.Constant) and isinstance(node.value, ALLOWED_KEYS)

    def signed_number(node):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            # the sign written right against its number
            if (node.operand.lineno, node.operand.col_offset) != (node.lineno, node.col_offset + 1):
                return False
            node = node.operand
        return (isinstance(node, ast.Constant) and type(node.value) in (int, float))

    if not walk(tree.body, 0):
        return False
    # numbers in decimal only; no \N{...} escapes
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NUMBER:
                t = tok.string.lower()
                if t.startswith(('0x', '0o', '0b')) or t.endswith('j'):
                    return False
            if tok.type == tokenize.STRING:
                prefix = tok.string[:len(tok.string) - len(tok.string.lstrip('uUrRbB'))]
                body = tok.string[len(prefix):]
                if 'r' not in prefix.lower() and named_escape(body):
                    return False
    except Exception:  # the tokenizer's own refusals
        return False
    return True


def named_escape(body):
    i = 0
    while i < len(body):
        if body[i] == '\\':
            if body[i + 1:i + 3] == 'N{':
                return True
            i += 2
        else:
            i += 1
    return False


def without_bytes_prefixes(text):
    """The text with the b of every b'...' dropped: it reads as the string literal."""
    starts = [0] + [m.end() for m in re.finditer('\n', text)]
    cuts = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING:
                prefix = tok.string[:len(tok.string) - len(tok.string.lstrip('uUrRbBfF'))]
                at = prefix.lower().find('b')
                if at >= 0:
                    cuts.append(starts[tok.start[0] - 1] + tok.start[1] + at)
    except Exception:  # the tokenizer's own refusals: ast.parse refuses it too
        return text
    for at in reversed(cuts):
        text = text[:at] + text[at + 1:]
    return text


def read_literal(text):
    """The literal's value, or raises ValueError when it is bad."""
    text = without_bytes_prefixes(text).lstrip(' \t')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            tree = ast.parse(text, mode='eval')
        except (SyntaxError, MemoryError, RecursionError, ValueError) as err:
            raise ValueError('does not parse') from err
        if not within_subset(text, tree):
            raise ValueError('outside the subset')
        try:
            return ast.literal_eval(tree)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as err:
            raise ValueError('not a literal') from err


def refs(text):
    """(refs, bad) of a genres or production_companies value."""
    if text == '':
        return [], False
    try:
        items = read_literal(text)
    except ValueError:
        return [], True
    if not isinstance(items, (list, tuple)):
        return [], True
    out = {}
    for item in items:
        if not isinstance(item, dict) or 'id' not in item or 'name' not in item:
            return [], True
        ref_id, name = item['id'], item['name']
        if type(ref_id) is float and ref_id.is_integer():
            ref_id = int(ref_id)
        if type(ref_id) is not int or not 0 <= ref_id <= INT4[1]:
            return [], True
        if not isinstance(name, str):
            return [], True
        out.setdefault(ref_id, storable(name))
    return [{'id': k, 'name': v} for k, v in out.items()], False


# ---- the CSV ----------------------------------------------------------------

def records(path):
    """(line, fields, not_utf8) per CSV record, the header first. Bytes that are
    not UTF-8 come through as lone surrogates (surrogateescape) and are told
    apart; lines are counted by LF."""
    with open(path, 'rb') as f:
        data = f.read()
    if data.startswith((b'\xff\xfe', b'\xfe\xff')):
        json.dump({'error': 'CSV_ENCODING', 'utf16': True}, sys.stdout)
        sys.exit(3)
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    text = data.decode('utf-8', errors='surrogateescape')
    lf = [0]

    def lines():
        for line in io.StringIO(text, newline=''):
            lf[0] += line.endswith('\n')
            yield line

    reader = csv.reader(lines(), dialect='excel', strict=False)
    start = 1
    for fields in reader:
        line, start = start, lf[0] + 1
        if fields == []:
            continue
        not_utf8 = any('\udc80' <= ch <= '\udcff' for field in fields for ch in field)
        yield line, [field.replace('\x00', '') for field in fields], not_utf8


def well_formed(fields, col):
    """The film a row gives, or None when the row is malformed."""
    get = lambda name: value(fields[col[name]])
    if not is_id(get('id')):
        return None
    budget, revenue = number(get('budget')), number(get('revenue'))
    if not fits_bigint(budget) or not fits_bigint(revenue):
        return None
    vote_count = rating = None
    if get('vote_count') != '':
        vote_count = number(get('vote_count'))
        if not fits_integer(vote_count):
            return None
    if get('vote_average') != '':
        rating = as_real(number(get('vote_average')))
        if rating is None:
            return None
    date = valid_date(get('release_date'))
    return {
        'id': int(get('id')),
        'ratio': None,
        'budget': budget,
        'revenue': revenue,
        'title': get('title') or get('original_title'),
        'original_title': get('original_title') or None,
        'release_date': date.isoformat() if date else None,
        'year': date.year if date else None,
        'imdb_id': get('imdb_id') or None,
        'rating': None if rating is None else shortest_real(rating),
        'vote_count': None if vote_count is None else int(vote_count),
        '_genres': get('genres'),
        '_companies': get('production_companies'),
    }


def main():
    if sys.argv[1] == '--refs':
        with open(sys.argv[2], encoding='utf-8') as f:
            texts = json.load(f)
        json.dump([None if bad else found for found, bad in map(refs, map(value, texts))], sys.stdout, ensure_ascii=False)
        return
    path, top, min_budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    it = records(path)
    _, header, _ = next(it)
    col = {}
    for i, name in enumerate(header):
        col.setdefault(value(name), i)

    rows = malformed = duplicates = bad_literals = 0
    not_utf8_lines = []
    malformed_lines = []
    seen = set()
    eligible = []
    for line, fields, not_utf8 in it:
        rows += 1
        if not_utf8:
            not_utf8_lines.append(line)
        film = None if not_utf8 or len(fields) != len(header) else well_formed(fields, col)
        if film is None:
            malformed += 1
            malformed_lines.append(line)
            continue
        if film['id'] in seen:
            duplicates += 1
            continue
        seen.add(film['id'])
        if film['budget'] >= min_budget and film['budget'] > 0 and film['revenue'] > 0:
            eligible.append(film)

    if len(not_utf8_lines) > 0.01 * rows:
        json.dump({'error': 'CSV_ENCODING', 'rows': rows, 'not_utf8': len(not_utf8_lines),
                   'line': not_utf8_lines[0]}, sys.stdout)
        sys.exit(3)

    for film in eligible:
        film['ratio'] = film['revenue'] / film['budget']
    eligible.sort(key=lambda f: (-f['ratio'], f['id']))
    films = []
    names = {'genres': {}, 'companies': {}}
    for rank, film in enumerate(eligible[:top], start=1):
        for kind, raw in (('genres', film.pop('_genres')), ('companies', film.pop('_companies'))):
            found, bad = refs(raw)
            bad_literals += bad
            for ref in found:  # the best-ranked film's name for an id
                ref['name'] = names[kind].setdefault(ref['id'], ref['name'])
            film[kind] = found
        film['rank'] = rank
        film['budget'], film['revenue'] = int(film['budget']), int(film['revenue'])
        films.append(film)

    report = {'rows': rows, 'malformed': malformed, 'duplicates': duplicates,
              'eligible': len(eligible), 'selected': len(films), 'bad_literals': bad_literals,
              'malformed_lines': malformed_lines}
    json.dump({'report': report, 'films': films}, sys.stdout, ensure_ascii=False)


if __name__ == '__main__':
    main()
