import type { NextFunction, Request, Response } from 'express';

const SERVED_BY_HEADER = 'X-Served-By';

/** Names the instance behind every response, `<port>:<pid>`, so balancing can be seen from outside. */
export function servedByHeader(value: string) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader(SERVED_BY_HEADER, value);
    next();
  };
}
