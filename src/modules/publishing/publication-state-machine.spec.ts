import {
  PUBLICATION_EVENTS,
  publicationTransition,
} from 'src/modules/publishing/publication-state-machine';
import type { PublicationStatus } from 'src/modules/publishing/publication.entity';

const STATUSES: PublicationStatus[] = [
  'queued',
  'sending',
  'published',
  'failed',
  'retracting',
  'retracted',
  'cancelled',
];

/** The publication lifecycle of docs/publishing.md, written out by hand so the table cannot drift. */
const EXPECTED: Array<
  [PublicationStatus, (typeof PUBLICATION_EVENTS)[number], 'publish' | 'retract', PublicationStatus]
> = [
  ['queued', 'claim', 'publish', 'sending'],
  ['sending', 'claim', 'publish', 'sending'],
  ['retracting', 'claim', 'retract', 'retracting'],
  ['sending', 'accept', 'publish', 'sending'],
  ['retracting', 'accept', 'retract', 'retracting'],
  ['sending', 'deliver', 'publish', 'published'],
  ['retracting', 'deliver', 'retract', 'retracted'],
  ['sending', 'schedule_retry', 'publish', 'queued'],
  ['retracting', 'schedule_retry', 'retract', 'retracting'],
  ['sending', 'fail', 'publish', 'failed'],
  ['retracting', 'fail', 'retract', 'failed'],
  ['queued', 'cancel', 'publish', 'cancelled'],
  ['failed', 'cancel', 'publish', 'cancelled'],
  ['published', 'take_down', 'publish', 'retracting'],
  ['sending', 'take_down', 'publish', 'retracting'],
  ['failed', 'request_retry', 'publish', 'queued'],
  ['failed', 'request_retry', 'retract', 'retracting'],
];

describe('publication lifecycle', () => {
  it.each(EXPECTED)('%s --%s (%s)--> %s', (from, event, operation, to) => {
    expect(publicationTransition(from, event, operation)).toBe(to);
  });

  it('has no move the table above does not list', () => {
    for (const from of STATUSES) {
      for (const event of PUBLICATION_EVENTS) {
        if (event === 'enqueue') continue;
        for (const operation of ['publish', 'retract'] as const) {
          const listed = EXPECTED.find(
            ([f, e, o]) =>
              f === from && e === event && (o === operation || !hasOperationBranch(f, e)),
          );
          const got = publicationTransition(from, event, operation);
          if (!listed)
            expect({ from, event, operation, got }).toEqual({ from, event, operation, got: null });
        }
      }
    }
  });

  it('a failed take-down is never cancelled: it must still come down', () => {
    expect(publicationTransition('failed', 'cancel', 'retract')).toBeNull();
  });

  it('ends stay ends', () => {
    for (const end of ['retracted', 'cancelled'] as const)
      for (const event of PUBLICATION_EVENTS)
        if (event !== 'enqueue') expect(publicationTransition(end, event)).toBeNull();
  });

  it('every publication begins queued', () => {
    expect(publicationTransition('failed', 'enqueue')).toBe('queued');
  });
});

/** Moves whose result depends on the operation, not on the status alone. */
function hasOperationBranch(from: PublicationStatus, event: string): boolean {
  return from === 'failed' && (event === 'request_retry' || event === 'cancel');
}
