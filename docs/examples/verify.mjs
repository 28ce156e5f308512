// Verify a Cue webhook (contract §9.4) with Node.js's built-in crypto only.
//
//   const verdict = verify(req.headers['x-cue-signature'], req.headers['x-cue-timestamp'],
//                          rawBodyBuffer, [currentSecret, previousSecret]);
//   if (verdict !== 'valid') return res.status(401).end();
//
// Run as a script, it checks itself against the published vectors:
//   node docs/examples/verify.mjs docs/webhook-test-vectors.json
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TOLERANCE_SECONDS = 300;

/**
 * Returns 'valid', 'missing_signature', 'malformed_timestamp', 'too_old', 'too_new' or 'no_match'.
 * body is the raw request body (a Buffer) exactly as received: verify first, JSON.parse afterwards.
 */
export function verify(signatureHeader, timestampHeader, body, secrets, now = Date.now() / 1000, tolerance = TOLERANCE_SECONDS) {
  if (typeof signatureHeader !== 'string' || signatureHeader.trim() === '') return 'missing_signature';

  const timestamp = typeof timestampHeader === 'string' ? timestampHeader.trim() : '';
  if (!/^[0-9]{1,11}$/.test(timestamp)) return 'malformed_timestamp';

  const age = now - Number(timestamp);
  if (age > tolerance) return 'too_old';
  if (age < -tolerance) return 'too_new';

  // The message is the timestamp text as sent, a dot, then the body bytes; the key is the whole secret (UTF-8).
  const expected = secrets.filter(Boolean).map((secret) =>
    createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest());

  let matched = false;
  for (const entry of signatureHeader.split(/[ \t]/)) {
    const match = /^v1=([0-9a-f]{64})$/.exec(entry);
    if (!match) continue; // empty, or another scheme such as v2=
    const presented = Buffer.from(match[1], 'hex');
    for (const digest of expected) {
      // timingSafeEqual on equal-length buffers; no early exit either.
      matched = timingSafeEqual(presented, digest) || matched;
    }
  }
  return matched ? 'valid' : 'no_match';
}

if (process.argv[1] === import.meta.filename) {
  const { readFileSync } = await import('node:fs');
  const { vectors } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  let failures = 0;
  for (const v of vectors) {
    const got = verify(v.signature, v.timestamp, Buffer.from(v.body, 'utf8'), v.secrets, v.now);
    if (got !== v.expected) failures++;
    console.log(got === v.expected ? 'ok' : 'FAIL', v.name, got);
  }
  console.log(`${vectors.length - failures}/${vectors.length} vectors`);
  process.exit(failures ? 1 : 0);
}
