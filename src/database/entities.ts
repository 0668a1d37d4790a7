import { AuditChainHead, AuditEvent } from 'src/modules/audit/audit-event.entity';
import { RefreshToken, Session } from 'src/modules/auth/session.entity';
import { Channel } from 'src/modules/channels/channel.entity';
import { Department } from 'src/modules/departments/department.entity';
import { User } from 'src/modules/users/user.entity';

export const ENTITIES = [
  Department,
  User,
  Channel,
  Session,
  RefreshToken,
  AuditEvent,
  AuditChainHead,
];
