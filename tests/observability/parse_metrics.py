#!/usr/bin/python3
"""Parses Prometheus text exposition from stdin with prometheus_client's parser (Debian's
python3-prometheus-client) and prints one JSON object per sample:
{"family": ..., "type": ..., "name": ..., "labels": {...}, "value": ...}.
Exits 1 (with the parser's message on stderr) when the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
try:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            print(json.dumps({"family": family.name, "type": family.type, "name": s.name,
                              "labels": s.labels, "value": s.value}))
except Exception as e:  # noqa: BLE001 - any parse failure fails the test
    print(f"parse error: {e}", file=sys.stderr)
    sys.exit(1)
