/**
 * The console's Content-Security-Policy. `connect` lists the only origins the page may talk to:
 * none under Electron (IPC), the server's own ws:// origin under `cvlab serve`.
 */
export function contentSecurityPolicy(connect: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Styles come from the bundled stylesheet; scripts set inline styles through the CSSOM, which CSP allows.
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.length ? connect.join(' ') : "'none'"}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}
