import { CreatedOrganisationAndAudit1763700000000 } from './1763700000000-CreatedOrganisationAndAudit';
import { CreatedPostsAndReviews1763800000000 } from './1763800000000-CreatedPostsAndReviews';
import { AddedPublicationDelivery1763850000000 } from './1763850000000-AddedPublicationDelivery';
import { CreatedAuditCheckpoints1763900000000 } from './1763900000000-CreatedAuditCheckpoints';
import { CreatedScreeningTerms1763950000000 } from './1763950000000-CreatedScreeningTerms';
import { AddedListIndexesAndTextSearch1764000000000 } from './1764000000000-AddedListIndexesAndTextSearch';
import { AddedUserSessionEpoch1763990000000 } from './1763990000000-AddedUserSessionEpoch';
import { CreatedMediaAndPublicationErrorCodes1764200000000 } from './1764200000000-CreatedMediaAndPublicationErrorCodes';

/** Every migration, in order. Listed, not globbed, so the app, the CLI and the tests share one set. */
export const MIGRATIONS = [
  CreatedOrganisationAndAudit1763700000000,
  CreatedPostsAndReviews1763800000000,
  AddedPublicationDelivery1763850000000,
  CreatedAuditCheckpoints1763900000000,
  CreatedScreeningTerms1763950000000,
  AddedUserSessionEpoch1763990000000,
  AddedListIndexesAndTextSearch1764000000000,
  CreatedMediaAndPublicationErrorCodes1764200000000,
];
