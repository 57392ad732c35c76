import {
  Catch,
  NotFoundException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';

/**
 * Nest answers an unknown route with `Cannot GET /<path>`, echoing whatever a
 * client put in the path (markup included) back to it. Same shape and status,
 * without the path: only the method, which Node's parser limits to known tokens.
 */
@Catch(NotFoundException)
export class NotFoundFilter implements ExceptionFilter<NotFoundException> {
  catch(exception: NotFoundException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const status = exception.getStatus();
    res.status(status).json({
      statusCode: status,
      message: `Cannot ${req.method} the requested path`,
      error: 'Not Found',
    });
  }
}
