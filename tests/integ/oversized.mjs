// POST a body far over max_body to an endpoint with Node's built-in fetch (undici, what
// the MCP TypeScript SDK uses), N times; print one line per try: the status, or the
// error a client would see (a reset of the connection: EPIPE, ECONNRESET).
// usage: node oversized.mjs URL BYTES N [content-type]
const [url, bytes, n, type] = process.argv.slice(2);
const body = 'a='.concat('x'.repeat(Number(bytes) - 2));
for (let i = 0; i < Number(n); i++) {
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': type || 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(10000),
    });
    const text = await r.text();
    let error = '';
    try { error = JSON.parse(text).error || ''; } catch { error = 'html'; }
    console.log(`${r.status} ${error}`);
  } catch (e) {
    console.log(`failed ${e.cause?.code || e.name}`);
  }
}
