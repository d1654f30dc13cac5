// TLS settings read once at start (files named in the config), and errors of the handshake put in
// words an operator can act on, naming the file to change.
import { readFileSync } from 'node:fs';

export interface TlsConfig {
  ca_file?: string | undefined;
  cert_file?: string | undefined;
  key_file?: string | undefined;
  insecure_skip_verify: boolean;
}

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied (is it readable by the sonde user?)' : e.message;
    throw new Error(`http: cannot read tls.${key} ${file}: ${why}; nothing is sent until it can be read`);
  }
}

export function tlsOptions(tls: TlsConfig): TlsOptions {
  if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) throw new Error('http: tls.cert_file and tls.key_file go together: set both (the client certificate and its key) or neither');
  const out: TlsOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  if (tls.ca_file !== undefined) out.ca = readPem(tls.ca_file, 'ca_file');
  if (tls.cert_file !== undefined) out.cert = readPem(tls.cert_file, 'cert_file');
  if (tls.key_file !== undefined) out.key = readPem(tls.key_file, 'key_file');
  return out;
}

const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** A sentence on a failed request; for a certificate the CA does not vouch for, what to change. */
export function describeTlsError(err: NodeJS.ErrnoException, tls: TlsConfig): string | undefined {
  const code = err.code ?? '';
  if (VERIFY_CODES.has(code)) {
    const ca = tls.ca_file !== undefined ? `the CA in tls.ca_file (${tls.ca_file})` : "the system's CAs";
    return `the server's certificate is not signed by ${ca} (${code}: ${err.message}); set tls.ca_file to the CA that signed it`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server's certificate is not for this host name (${err.message}); use the name in its certificate in url, or fix the certificate`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the server's certificate is out of its validity dates (${code}); renew it, or check this host's clock`;
  const alert = /alert (bad certificate|certificate required|unknown ca|handshake failure)/i.exec(err.message);
  if (alert) return `the server refused the handshake (TLS alert "${alert[1]}"), most likely the client certificate; check tls.cert_file and tls.key_file${tls.cert_file === undefined ? ' (none is set)' : ''}`;
  return undefined;
}
