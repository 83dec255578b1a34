#!/usr/bin/env python3
"""The selection of SPEC section 3, read on its own terms.

Usage: oracle.py CSV TOP MIN_BUDGET

Prints {"report": {...}, "films": [...]} as JSON, films in rank order. Written from
SPEC section 3 and, where SPEC is silent, from docs/selection.md: never from the
product's code. The CSV is read by Python's csv module, the literals by
ast.literal_eval, numbers by decimal.Decimal, dates by datetime.date.

When the file is not UTF-8 (over 1% of its rows hold bytes that are not), it prints
{"error": "not_utf8", "rows": N, "not_utf8": K} and exits 3.
"""
import ast
import csv
import datetime
import decimal
import io
import json
import math
import struct
import sys

INT32 = (-2**31, 2**31 - 1)
INT64 = (-2**63, 2**63 - 1)
FLOAT4_MAX = struct.unpack('<f', b'\xff\xff\x7f\x7f')[0]

# docs/selection.md, "Numbers": what a number looks like in the CSV
SIGNS = '+-'
DIGITS = '0123456789'


def is_decimal_literal(text):
    """An optional sign, digits with an optional fraction (at least one digit in
    all), an optional exponent: scanned by hand, so that nothing looser (spaces,
    '_', 'inf', 'nan', hex, other scripts' digits) passes as it would through float()."""
    i = 1 if text[:1] in SIGNS else 0
    whole = frac = 0
    while i < len(text) and text[i] in DIGITS:
        i, whole = i + 1, whole + 1
    if i < len(text) and text[i] == '.':
        i += 1
        while i < len(text) and text[i] in DIGITS:
            i, frac = i + 1, frac + 1
    if whole + frac == 0:
        return False
    if i < len(text) and text[i] in 'eE':
        i += 1
        if i < len(text) and text[i] in SIGNS:
            i += 1
        exp = 0
        while i < len(text) and text[i] in DIGITS:
            i, exp = i + 1, exp + 1
        if exp == 0:
            return False
    return i == len(text)


def exact(text):
    """The exact value of a number as written, or None when it is not one."""
    if not is_decimal_literal(text):
        return None
    try:
        return decimal.Decimal(text)  # exact whatever the context's precision
    except decimal.InvalidOperation:
        return None


def integral_in(value, bounds):
    """The value as an int when it is a whole number within bounds, else None."""
    if value is None or not value.is_finite():
        return None
    if value.adjusted() > 20:  # far beyond any bound: never build the int
        return None
    if value != value.to_integral_value():
        return None
    n = int(value)
    return n if bounds[0] <= n <= bounds[1] else None


def as_float4(text):
    """vote_average as a real column stores it: None when it is not a finite number
    that a float4 can hold. The value is the float4's shortest decimal form, as
    PostgreSQL prints it and the test reads it back."""
    value = exact(text)
    if value is None:
        return None
    double = float(value)
    if not math.isfinite(double):
        return None
    try:
        single = struct.unpack('<f', struct.pack('<f', double))[0]
    except OverflowError:
        return None
    if not math.isfinite(single):
        return None
    for digits in range(1, 10):
        shortest = float('%.*g' % (digits, single))
        if struct.unpack('<f', struct.pack('<f', shortest))[0] == single:
            return shortest
    return single


def valid_date(text):
    """YYYY-MM-DD naming a real calendar day, or None."""
    if len(text) != 10 or text[4] != '-' or text[7] != '-':
        return None
    y, m, d = text[:4], text[5:7], text[8:]
    if not (y + m + d).isascii() or not (y + m + d).isdigit():
        return None
    try:
        return datetime.date(int(y), int(m), int(d))
    except ValueError:
        return None


def refs(text):
    """A genres or production_companies value: (list of {id, name}, bad?).
    docs/selection.md, "Genres and companies"."""
    if text == '':
        return [], False
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return [], True
    if not isinstance(value, list):
        return [], True
    out = {}
    for item in value:
        if not isinstance(item, dict):
            return [], True
        ref_id, name = item.get('id'), item.get('name')
        if type(ref_id) is not int or not (1 <= ref_id <= INT32[1]) or not isinstance(name, str):
            return [], True
        out.setdefault(ref_id, name)
    return [{'id': k, 'name': v} for k, v in out.items()], False


def records(path):
    """(line, fields, not_utf8) per CSV record, the header included. Bytes that are
    not UTF-8 come through as lone surrogates (surrogateescape) and are told apart."""
    with open(path, 'rb') as f:
        data = f.read()
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    text = data.decode('utf-8', errors='surrogateescape')
    reader = csv.reader(io.StringIO(text, newline=''), dialect='excel', strict=False)
    line = 1
    for fields in reader:
        start = line
        line = reader.line_num + 1
        if fields == []:
            continue
        not_utf8 = any('\udc80' <= ch <= '\udcff' for field in fields for ch in field)
        yield start, [field.replace('\x00', '') for field in fields], not_utf8


def main():
    path, top, min_budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    it = records(path)
    _, header, _ = next(it)
    col = {name: i for i, name in enumerate(header)}

    rows = malformed = duplicates = bad_literals = not_utf8_rows = 0
    malformed_lines = []
    seen = set()
    eligible = []
    for line, fields, not_utf8 in it:
        rows += 1
        if not_utf8:
            not_utf8_rows += 1
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

    if not_utf8_rows * 100 > rows:
        json.dump({'error': 'not_utf8', 'rows': rows, 'not_utf8': not_utf8_rows}, sys.stdout)
        sys.exit(3)

    for film in eligible:
        film['ratio'] = float(film['revenue']) / float(film['budget'])
    eligible.sort(key=lambda f: (-f['ratio'], f['id']))
    films = []
    for rank, film in enumerate(eligible[:top], start=1):
        genres, bad_genres = refs(film.pop('_genres'))
        companies, bad_companies = refs(film.pop('_companies'))
        bad_literals += bad_genres + bad_companies
        film.update(rank=rank, genres=genres, companies=companies)
        films.append(film)

    report = {'rows': rows, 'malformed': malformed, 'duplicates': duplicates,
              'eligible': len(eligible), 'selected': len(films), 'bad_literals': bad_literals,
              'malformed_lines': malformed_lines}
    json.dump({'report': report, 'films': films}, sys.stdout, ensure_ascii=False)


def well_formed(fields, col):
    """The film a row gives, or None when SPEC section 3 calls the row malformed."""
    get = lambda name: fields[col[name]]
    film_id = get('id')
    if not (film_id.isascii() and film_id.isdigit()):
        return None
    film_id = int(film_id)
    if not (1 <= film_id <= INT32[1]):
        return None
    budget = integral_in(exact(get('budget')), INT64)
    revenue = integral_in(exact(get('revenue')), INT64)
    if budget is None or revenue is None:
        return None
    vote_count = None
    if get('vote_count') != '':
        vote_count = integral_in(exact(get('vote_count')), INT32)
        if vote_count is None:
            return None
    rating = None
    if get('vote_average') != '':
        rating = as_float4(get('vote_average'))
        if rating is None:
            return None
    date = valid_date(get('release_date'))
    return {
        'id': film_id,
        'ratio': None,
        'budget': budget,
        'revenue': revenue,
        'title': get('title') or get('original_title'),
        'original_title': get('original_title') or None,
        'release_date': date.isoformat() if date else None,
        'year': date.year if date else None,
        'imdb_id': get('imdb_id') or None,
        'rating': rating,
        'vote_count': vote_count,
        '_genres': get('genres'),
        '_companies': get('production_companies'),
    }


if __name__ == '__main__':
    main()
