"""The naive baseline in Python: every <doc> of an abstract dump parsed with
ElementTree's iterparse (the C parser), its title looked up in a set of keys,
the doc dropped from the feed (memory stays flat). Prints one JSON line: {"ms", "docs", "found", "bytes"}.

    python3 bench/iterparse.py DUMP.xml [KEYS.json]
"""
import json
import os
import sys
import time
import xml.etree.ElementTree as ET


def main() -> None:
    dump = sys.argv[1]
    keys = set()
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            data = json.load(f)
        keys = set(data if isinstance(data, list) else data["keys"])
    started = time.perf_counter()
    docs = found = 0
    root = None
    for event, elem in ET.iterparse(dump, events=("start", "end")):
        if root is None:
            root = elem
        if event != "end" or elem.tag != "doc":
            continue
        docs += 1
        title = elem.findtext("title") or ""
        if title.startswith("Wikipedia: "):
            title = title[len("Wikipedia: "):]
        if title in keys:
            found += 1
        root.clear()  # the feed drops the doc: memory stays flat
    ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"ms": ms, "docs": docs, "found": found, "bytes": os.path.getsize(dump)}))


if __name__ == "__main__":
    main()
