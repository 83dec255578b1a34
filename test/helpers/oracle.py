"""An independent reading of SPEC section 3, for the tests to compare against.

Python's csv module and ast.literal_eval instead of csv-parse and our literal
parser; the whole file sorted instead of a bounded heap. Prints JSON:
{"report": {...}, "films": [{...}, ...]} in rank order.

    python3 oracle.py movies_metadata.csv TOP MIN_BUDGET
"""
import ast
import csv
import datetime
import json
import re
import sys

DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def refs(text):
    text = text.strip()
    if text == "":
        return []
    try:
        value = ast.literal_eval(text)
    except Exception:
        return None
    if not isinstance(value, list):
        return None
    out, seen = [], set()
    for item in value:
        if not isinstance(item, dict):
            return None
        i, n = item.get("id"), item.get("name")
        if not isinstance(i, int) or isinstance(i, bool) or i < 0 or i > 2**31 - 1 or not isinstance(n, str):
            return None
        if i not in seen:
            seen.add(i)
            out.append({"id": i, "name": n})
    return out


def date(text):
    try:
        d = datetime.date.fromisoformat(text.strip())
        return d.isoformat(), d.year
    except ValueError:
        return None, None


def main(path, top, min_budget):
    with open(path, newline="", encoding="utf-8-sig") as f:
        records = [r for r in csv.reader(f) if r != []]
    header, rows = [h.strip() for h in records[0]], records[1:]
    col = {name: i for i, name in enumerate(header)}
    report = {"rows": len(rows), "malformed": 0, "duplicates": 0, "eligible": 0, "bad_literals": 0}
    seen, eligible = set(), []
    for r in rows:
        get = lambda name: r[col[name]]
        if len(r) != len(header):
            report["malformed"] += 1
            continue
        i, b, v = get("id").strip(), get("budget").strip(), get("revenue").strip()
        if not re.fullmatch(r"[1-9]\d*", i) or int(i) > 2**31 - 1 or not DECIMAL.match(b) or not DECIMAL.match(v):
            report["malformed"] += 1
            continue
        if int(i) in seen:
            report["duplicates"] += 1
            continue
        seen.add(int(i))
        budget, revenue = float(b), float(v)
        if budget >= min_budget and revenue > 0:
            report["eligible"] += 1
            eligible.append((revenue / budget, int(i), budget, revenue, r))
    eligible.sort(key=lambda e: (-e[0], e[1]))
    films = []
    for rank, (ratio, i, budget, revenue, r) in enumerate(eligible[:top], start=1):
        get = lambda name: r[col[name]]
        genres, companies = refs(get("genres")), refs(get("production_companies"))
        report["bad_literals"] += (genres is None) + (companies is None)
        d, y = date(get("release_date"))
        title, original = get("title").strip(), get("original_title").strip()
        rating = get("vote_average").strip()
        votes = get("vote_count").strip()
        films.append({
            "id": i, "rank": rank, "ratio": ratio, "budget": round(budget), "revenue": round(revenue),
            "title": title or original, "original_title": original or None,
            "release_date": d, "year": y,
            "imdb_id": get("imdb_id").strip() or None,
            "rating": float(rating) if DECIMAL.match(rating) else None,
            "vote_count": int(float(votes)) if DECIMAL.match(votes) and float(votes).is_integer() else None,
            "genres": genres or [], "companies": companies or [],
        })
    report["selected"] = len(films)
    json.dump({"report": report, "films": films}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
