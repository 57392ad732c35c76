import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** A caller's id is kept only when it is a sane token: nothing else reaches a log line. */
const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

declare module 'express' {
  interface Request {
    /** X-Request-Id: the caller's (or nginx's), when sane, else a fresh UUID. */
    requestId?: string;
  }
}

/** Gives every request an id, echoed in the answer and written in its log line. */
export function requestId() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers['x-request-id'];
    const id =
      typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
    req.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}
