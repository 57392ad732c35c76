import {
  Controller,
  Get,
  Header,
  HttpException,
  Query,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Response } from 'express';
import { countsToJson } from './counts-json.js';
import { ParseCantPipe } from './parse-cant.pipe.js';
import {
  QueueFullError,
  RandomsService,
  retryAfterSeconds,
} from './randoms.service.js';
/** nginx's code for a request whose client went away before the answer. */
const CLIENT_CLOSED_REQUEST = 499;

@Controller('api/randoms')
export class RandomsController {
  constructor(private readonly randomsService: RandomsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', 'application/json; charset=utf-8')
  async count(
    @Query(ParseCantPipe) cant: number,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    // A small request is drawn on the spot: nothing to queue, nothing to cancel.
    const counts =
      this.randomsService.countNow(cant) ?? (await this.countOnPool(cant, res));
    return countsToJson(counts);
  }

  /** Pool work is cancelled when its client goes; a full queue is a 503 saying when to retry. */
  private async countOnPool(cant: number, res: Response): Promise<Uint32Array> {
    const abort = new AbortController();
    const cancelIfGone = (): void => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', cancelIfGone);
    try {
      return await this.randomsService.countOnPool(cant, abort.signal);
    } catch (error) {
      if (error instanceof QueueFullError) {
        res.setHeader('Retry-After', String(retryAfterSeconds(error.refusal)));
        throw new ServiceUnavailableException(error.message);
      }
      if (abort.signal.aborted) {
        throw new HttpException('Client Closed Request', CLIENT_CLOSED_REQUEST);
      }
      throw error;
    } finally {
      res.off('close', cancelIfGone);
    }
  }
}
