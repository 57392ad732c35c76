import {
  BadRequestException,
  Inject,
  Injectable,
  type PipeTransform,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/app.config.js';
import type { AppOptions } from '../config/app-options.js';

/** What /api/randoms draws when no cant is given (capped by RANDOMS_MAX_CANT). */
const DEFAULT_CANT = 100_000_000;
const ACCEPTED_KEYS = new Set(['cant']);
/** ASCII digits only: no sign, exponent, hex, separators or other scripts' digits. */
const DIGITS = /^[0-9]{1,16}$/;

/** Turns the whole query of /api/randoms into the number of draws, or a 400 that says what is allowed. */
@Injectable()
export class ParseCantPipe implements PipeTransform<
  Record<string, unknown>,
  number
> {
  constructor(
    @Inject(APP_CONFIG)
    private readonly config: AppOptions,
  ) {}

  transform(query: Record<string, unknown>): number {
    // The offending name is not echoed back: nothing a client sends is reflected.
    if (Object.keys(query).some((key) => !ACCEPTED_KEYS.has(key))) {
      throw new BadRequestException(
        'only the query parameter cant is accepted',
      );
    }
    const raw = query.cant;
    if (raw === undefined) return Math.min(DEFAULT_CANT, this.config.maxCant);
    if (typeof raw !== 'string')
      throw new BadRequestException('cant must be given once');
    const cant = DIGITS.test(raw) ? Number(raw) : NaN;
    if (!(cant >= 1 && cant <= this.config.maxCant)) {
      throw new BadRequestException(
        `cant must be an integer from 1 to ${this.config.maxCant}`,
      );
    }
    return cant;
  }
}
