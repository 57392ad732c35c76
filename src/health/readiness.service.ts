import { Injectable } from '@nestjs/common';

/** Whether this process still takes work: false from the moment a drain starts. */
@Injectable()
export class Readiness {
  private draining = false;

  get ready(): boolean {
    return !this.draining;
  }

  startDraining(): void {
    this.draining = true;
  }
}
