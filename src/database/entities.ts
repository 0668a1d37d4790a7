import { AuditCheckpoint } from 'src/modules/audit/audit-checkpoint.entity';
import { AuditChainHead, AuditEvent } from 'src/modules/audit/audit-event.entity';
import { RefreshToken, Session } from 'src/modules/auth/session.entity';
import { Channel } from 'src/modules/channels/channel.entity';
import { Department } from 'src/modules/departments/department.entity';
import { Post, PostChannel, PostRevision } from 'src/modules/posts/post.entity';
import { Publication } from 'src/modules/publishing/publication.entity';
import { Decision } from 'src/modules/review/decision.entity';
import { PostScreening } from 'src/modules/screening/post-screening.entity';
import { ScreeningState, ScreeningTerm } from 'src/modules/screening/screening-term.entity';
import { User } from 'src/modules/users/user.entity';

export const ENTITIES = [
  Department,
  User,
  Channel,
  Session,
  RefreshToken,
  AuditEvent,
  AuditChainHead,
  AuditCheckpoint,
  Post,
  PostRevision,
  PostChannel,
  Decision,
  Publication,
  ScreeningTerm,
  ScreeningState,
  PostScreening,
];
