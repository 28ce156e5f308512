"""Verify a Cue webhook (contract §9.4) with the Python standard library only.

    verdict = verify(request.headers.get("X-Cue-Signature"),
                     request.headers.get("X-Cue-Timestamp"),
                     raw_body_bytes, [current_secret, previous_secret])
    if verdict != "valid": return 401

Run as a script, it checks itself against the published vectors:
    python3 docs/examples/verify.py docs/webhook-test-vectors.json
"""
import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300
_HEX = frozenset("0123456789abcdef")


def verify(signature_header, timestamp_header, body, secrets, now=None, tolerance=TOLERANCE_SECONDS):
    """Returns "valid", "missing_signature", "malformed_timestamp", "too_old", "too_new" or "no_match".

    body is the raw request body (bytes) exactly as received: verify first, parse the JSON afterwards.
    """
    if not signature_header or not signature_header.strip():
        return "missing_signature"

    timestamp = (timestamp_header or "").strip()
    if not (0 < len(timestamp) <= 11 and timestamp.isascii() and timestamp.isdigit()):
        return "malformed_timestamp"

    age = (time.time() if now is None else now) - int(timestamp)
    if age > tolerance:
        return "too_old"
    if age < -tolerance:
        return "too_new"

    # The message is the timestamp text as sent, a dot, then the body bytes; the key is the whole secret.
    message = timestamp.encode("ascii") + b"." + body
    expected = [hmac.new(s.encode("utf-8"), message, hashlib.sha256).hexdigest() for s in secrets if s]

    matched = False
    for entry in signature_header.replace("\t", " ").split(" "):
        if not entry.startswith("v1="):
            continue  # empty, or another scheme such as v2=
        presented = entry[3:]
        if len(presented) != 64 or not set(presented) <= _HEX:
            continue
        for digest in expected:
            # compare_digest takes the same time wherever the strings differ; no early exit either.
            matched |= hmac.compare_digest(presented, digest)
    return "valid" if matched else "no_match"


if __name__ == "__main__":
    import json
    import sys

    with open(sys.argv[1], encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    failures = 0
    for v in vectors:
        got = verify(v["signature"], v["timestamp"], v["body"].encode("utf-8"), v["secrets"], now=v["now"])
        ok = got == v["expected"]
        failures += not ok
        print(("ok" if ok else "FAIL"), v["name"], got)
    print(f"{len(vectors) - failures}/{len(vectors)} vectors")
    sys.exit(1 if failures else 0)
