/** Content addressing: lowercase hex sha256, computed with WebCrypto (browsers and Node 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Browsers hide crypto.subtle outside secure contexts; say so instead of "undefined is not an object".
  if (!globalThis.crypto?.subtle)
    throw new Error(
      'sha256 needs crypto.subtle, which this page lacks: it is not a secure context (open it over HTTPS or on localhost)',
    );
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
