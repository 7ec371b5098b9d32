#!/usr/bin/env python3
"""Prints the line coverage of a cargo-tarpaulin JSON report: the least-covered files of
some size, then the one-line total last. Standard library only."""

import json
import sys

SMALLEST_LISTED = 40  # coverable lines; tiny files say little either way
LISTED = 8


def main(path):
    try:
        with open(path, encoding="utf-8") as report_file:
            report = json.load(report_file)
    except (OSError, ValueError) as err:
        print(f"coverage: no report ({err}); see target/coverage/run.log", file=sys.stderr)
        return 1
    files = []
    for entry in report.get("files", []):
        coverable = entry.get("coverable", 0)
        if coverable:
            name = "/".join(entry.get("path", [])).split("/src/", 1)[-1]
            files.append((entry.get("covered", 0) / coverable, coverable, name))
    covered = sum(round(share * lines) for share, lines, _ in files)
    coverable = sum(lines for _, lines, _ in files)
    if not coverable:
        print("coverage: the report holds no coverable lines", file=sys.stderr)
        return 1
    print(f"Least covered files of {SMALLEST_LISTED} lines or more:")
    for share, lines, name in sorted(f for f in files if f[1] >= SMALLEST_LISTED)[:LISTED]:
        print(f"  {share:6.1%}  of {lines:4} lines  src/{name}")
    print(f"coverage: {covered / coverable:.1%} of lines ({covered} of {coverable}) "
          f"in {len(files)} files; HTML report in target/coverage/tarpaulin-report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
