import type { NextFunction, Request, Response } from 'express';

/** The safe defaults for a JSON API with one server-rendered page that has inline styles only. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
};

export function securityHeaders() {
  const entries = Object.entries(SECURITY_HEADERS);
  return (_req: Request, res: Response, next: NextFunction): void => {
    for (const [name, value] of entries) res.setHeader(name, value);
    next();
  };
}
